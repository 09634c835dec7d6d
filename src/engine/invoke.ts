import { SgError } from '../errors/index.js';
import { readPath, writePath } from '../graph/paths.js';
import type { Step } from '../graph/step.js';
import { isAsyncIterable, isThenable, StepCallContext } from './context.js';
import { cloneOrThrow, Event } from './event.js';
import { defaultMerge } from './merge.js';
import type { Outlet, Processor } from './processor.js';
import { StreamState } from './stream.js';

type Handler = (input: unknown, ctx: StepCallContext) => unknown;

/**
 * The processor of a MapStep or a user step's `do` (graph.md sections 5, 7, 8): read the input
 * (body, `inputPath` or the whole event), call the handler, write the output (body, `resultPath`,
 * or a returned Event). Synchronous handlers run without a single Promise.
 */
export function callProcessor(
  step: Step<unknown, unknown>,
  fn: Function,
  thisArg: unknown,
  streamingSwitch?: { enabled: boolean; maxBufferedChunks: number },
): Processor {
  const name = step.name;
  const { inputPath, resultPath, fullEvent } = step;
  const handler = fn as Handler;
  const streaming = step.streaming;
  const collect = step.collect;

  const finish = (ev: Event, value: unknown, out: Outlet): void | Promise<void> => {
    if (isAsyncIterable(value) || (streaming && isSyncIterator(value))) {
      if (!streaming) {
        throw new SgError(
          'SG_ERR_STREAM_UNDECLARED',
          `step '${name}' returned an async iterable but is not a streaming step; use an async generator handler or set streaming: true`,
          { step: name },
        );
      }
      // streaming disabled: the stream is collected at the step, which emits one event (streaming.md)
      return drain(value as AsyncIterable<unknown> | Iterator<unknown>).then(({ chunks, summary }) =>
        emitValue(ev, collect ? collect(chunks, summary) : defaultMerge(chunks), out),
      );
    }
    emitValue(ev, value, out);
  };

  const emitValue = (ev: Event, value: unknown, out: Outlet): void => {
    if (fullEvent) {
      if (value instanceof Event) {
        out.emit(value);
        return;
      }
      ev.body = value;
    } else if (resultPath !== undefined) {
      writePath(ev.body, resultPath, value, name);
    } else {
      ev.body = value;
    }
    out.emit(ev);
  };

  /** A merged stream where the step's output goes: at `resultPath` of a copy of the body it received, or the body. */
  const placeMerged = (origin: Event, merged: unknown): unknown => {
    if (resultPath === undefined) return merged;
    const body = cloneOrThrow(origin.body, 'body');
    writePath(body, resultPath, merged, name);
    return body;
  };

  if (streaming && streamingSwitch?.enabled) {
    // a streaming step: what the handler yields goes downstream as chunk events (streaming.md)
    const max = streamingSwitch.maxBufferedChunks;
    return {
      process(ev: Event, out: Outlet): void | Promise<void> {
        const input = fullEvent ? ev : inputPath === undefined ? ev.body : readPath(ev.body, inputPath, name);
        const stream = new StreamState(ev, name, max, {
          merge: (chunks, summary) => (collect ? collect(chunks, summary) : defaultMerge(chunks)),
          place: (merged) => placeMerged(ev, merged),
        });
        const go = (v: unknown): void | Promise<void> => {
          if (isAsyncIterable(v) || isSyncIterator(v)) return stream.run(v, (c) => out.emit(c));
          stream.detach();
          emitValue(ev, v, out); // a plain value for this input: a plain event
        };
        let result: unknown;
        try {
          result = handler.call(thisArg, input, new StreamCallContext(ev, stream));
        } catch (err) {
          stream.detach();
          throw err;
        }
        if (isThenable(result)) return Promise.resolve(result).then(go);
        return go(result);
      },
    };
  }

  return {
    process(ev: Event, out: Outlet): void | Promise<void> {
      const input = fullEvent ? ev : inputPath === undefined ? ev.body : readPath(ev.body, inputPath, name);
      const result = handler.call(thisArg, input, new StepCallContext(ev));
      if (isThenable(result)) return Promise.resolve(result).then((v) => finish(ev, v, out));
      return finish(ev, result, out);
    },
  };
}

/** The ctx of a streaming handler: its signal is the stream's, which aborts when the stream is cancelled. */
class StreamCallContext {
  constructor(
    readonly event: Event,
    private readonly stream: StreamState,
  ) {}

  get signal(): AbortSignal {
    return this.stream.signal;
  }
}

function isSyncIterator(v: unknown): v is Iterator<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as Iterator<unknown>).next === 'function';
}

/** Read a stream to its end: its chunks, and the generator's return value (the summary). */
async function drain(
  source: AsyncIterable<unknown> | Iterator<unknown>,
): Promise<{ chunks: unknown[]; summary: unknown }> {
  const it = (isAsyncIterable(source) ? source[Symbol.asyncIterator]() : source) as
    | AsyncIterator<unknown>
    | Iterator<unknown>;
  const chunks: unknown[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done) return { chunks, summary: r.value };
    if (r.value instanceof Error) throw r.value;
    chunks.push(r.value);
  }
}
