import { BatchSlots } from '../engine/batch-slots.js';
import { isAsyncIterable, isThenable, StepCallContext } from '../engine/context.js';
import { cloneOrThrow, Event } from '../engine/event.js';
import type { Outlet, Processor } from '../engine/processor.js';
import { describe, SgError, toStepError } from '../errors/index.js';
import { readPath, writePath } from '../graph/paths.js';
import type { PathOption, StepContext } from '../graph/types.js';
import { HandlerStep } from './handler-step.js';

const ALLOWED = ['name', 'handler', 'inputPath', 'resultPath', 'fullEvent'] as const;

export type FlatMapResult<T> = Iterable<T> | AsyncIterable<T> | Promise<Iterable<T>>;
export type FlatMapOptions<In, T> = {
  name?: string;
  handler: ((input: In, ctx: StepContext) => FlatMapResult<T>) | string;
  inputPath?: PathOption;
  resultPath?: PathOption;
  fullEvent?: boolean;
};

/**
 * One event in, one event per item out, in order (batching.md, "FlatMap"). On a batch event it splits
 * the batch back into its members' requests.
 */
export class FlatMap<In = unknown, T = unknown> extends HandlerStep<In, T, FlatMapResult<T>> {
  constructor(options: FlatMapOptions<In, T>) {
    super('FlatMap', ALLOWED, options);
  }

  override _streamRole(): 'flatMap' {
    return 'flatMap';
  }

  override _canHandleErrors(): boolean {
    return false;
  }

  override _kindLabel(): string {
    return 'flatMap';
  }

  override _processor(): Processor {
    const fn = this.fn as (input: unknown, ctx: StepContext) => unknown;
    const { name, inputPath, resultPath, fullEvent } = this;

    const bad = (v: unknown) =>
      new SgError(
        'SG_ERR_FLATMAP_RESULT',
        `FlatMap '${name}' must return an iterable, an async iterable or a promise of an iterable, got ${describe(v)}`,
        {
          step: name,
          details: { type: describe(v) },
        },
      );

    /** The child event for one item of a plain event. */
    const child = (ev: Event, item: unknown): Event => {
      if (fullEvent && item instanceof Event) return item;
      if (resultPath === undefined) return ev.copy({ body: item });
      const body = cloneOrThrow(ev.body, 'body');
      writePath(body, resultPath, item, name);
      return ev.copy({ body });
    };

    const emitAll = (ev: Event, items: Iterable<unknown>, out: Outlet): void => {
      for (const item of items) out.emit(child(ev, item));
    };

    const emitAsync = async (ev: Event, items: AsyncIterable<unknown>, out: Outlet): Promise<void> => {
      for await (const item of items) out.emit(child(ev, item));
    };

    return {
      process(ev: Event, out: Outlet): void | Promise<void> {
        const input = fullEvent ? ev : inputPath === undefined ? ev.body : readPath(ev.body, inputPath, name);
        const result = fn(input, new StepCallContext(ev));
        const owner = ev._owner;
        if (owner instanceof BatchSlots && ev.batch !== undefined) {
          return collectItems(result, bad).then((items) => splitBatch(owner, items, out, name, child));
        }
        if (isThenable(result)) {
          return Promise.resolve(result).then((items) => {
            if (!isSyncIterable(items)) throw bad(items);
            emitAll(ev, items, out);
          });
        }
        if (isSyncIterable(result)) return emitAll(ev, result, out);
        if (isAsyncIterable(result)) return emitAsync(ev, result, out);
        throw bad(result);
      },
    };
  }
}

function isSyncIterable(v: unknown): v is Iterable<unknown> {
  return (
    v !== null && typeof v === 'object' && typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
  );
}

/** All items of a handler result (a batch split needs the count before emitting). */
async function collectItems(result: unknown, bad: (v: unknown) => SgError): Promise<unknown[]> {
  if (isAsyncIterable(result)) {
    const items: unknown[] = [];
    for await (const item of result) items.push(item);
    return items;
  }
  const v = isThenable(result) ? await result : result;
  if (!isSyncIterable(v)) throw bad(v);
  return [...v];
}

/**
 * Split a batch (batching.md, "Split with FlatMap"): member events are emitted as they are; exactly
 * `size` other items bind item i to member i; any other count fails every member. An empty result drops the batch.
 */
function splitBatch(
  owner: BatchSlots,
  items: unknown[],
  out: Outlet,
  name: string,
  child: (member: Event, item: unknown) => Event,
): void {
  const members = owner.members;
  // member events: the members themselves or copies of them (a copy belongs to the same request)
  const memberOwners = new Set(members.map((m) => m._owner));
  if (items.every((i) => i instanceof Event && memberOwners.has(i._owner))) {
    for (const item of items) out.emit(item as Event);
    return;
  }
  if (items.length !== members.length) {
    throw new SgError(
      'SG_ERR_BATCH_SIZE_MISMATCH',
      `FlatMap '${name}' returned ${items.length} items for a batch of ${members.length}`,
      {
        step: name,
        details: { expected: members.length, received: items.length },
      },
    );
  }
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const member = members[i];
    if (item instanceof Error) {
      out.fail(member, toStepError(item, name));
      continue;
    }
    // the member's event with the item as body (or, with resultPath, written into a copy of its body)
    try {
      out.emit(child(member, item instanceof Event ? item.body : item));
    } catch (err) {
      out.fail(member, err);
    }
  }
}
