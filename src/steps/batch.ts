import { randomUUID } from 'node:crypto';
import { BatchSlots } from '../engine/batch-slots.js';
import { type BatchKey, Event } from '../engine/event.js';
import type { Outlet, Processor } from '../engine/processor.js';
import { describe, SgError, toStepError } from '../errors/index.js';
import { parsePath, readPath } from '../graph/paths.js';
import { rejectUnknownOptions, Step, type StepSpecForm } from '../graph/step.js';

export type BatchOptions = {
  name?: string;
  /** emit a group's open batch as soon as it holds this many events */
  maxEvents?: number;
  /** emit a group's open batch this long after its first event arrived */
  flushAfterSeconds?: number;
  /** the batch holds the member events instead of their bodies */
  fullEvent?: boolean;
  /** split events into groups: '$path', '$method', '$headers.<name>', a body path, or a function */
  key?: string | ((event: Event) => BatchKey);
};

const ALLOWED = ['name', 'maxEvents', 'flushAfterSeconds', 'fullEvent', 'key'] as const;

/** Gathers events that arrive close together into one batch event (batching.md). */
export class Batch extends Step<unknown, unknown[]> {
  readonly maxEvents: number | undefined;
  readonly flushAfterSeconds: number | undefined;
  readonly key: string | ((event: Event) => BatchKey) | undefined;

  constructor(options: BatchOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new SgError('SG_ERR_INVALID_OPTION', `Batch options must be an object, got ${describe(options)}`);
    }
    rejectUnknownOptions('Batch', options, ALLOWED);
    super({ name: options.name, fullEvent: options.fullEvent });
    const { maxEvents, flushAfterSeconds, key } = options;
    if (maxEvents !== undefined && !(Number.isInteger(maxEvents) && maxEvents >= 1)) {
      throw this.optionError('maxEvents', 'an integer >= 1', maxEvents);
    }
    if (
      flushAfterSeconds !== undefined &&
      !(typeof flushAfterSeconds === 'number' && Number.isFinite(flushAfterSeconds) && flushAfterSeconds >= 0)
    ) {
      throw this.optionError('flushAfterSeconds', 'a finite number >= 0', flushAfterSeconds);
    }
    if (maxEvents === undefined && flushAfterSeconds === undefined) {
      throw new SgError(
        'SG_ERR_INVALID_OPTION',
        `Batch '${this.name}': set maxEvents, flushAfterSeconds or both (without either a batch would wait until shutdown)`,
        { step: this.name, details: { field: 'maxEvents' } },
      );
    }
    if (key !== undefined && typeof key !== 'function' && (typeof key !== 'string' || key === '')) {
      throw this.optionError('key', 'a non-empty string or a function (event) => key', key);
    }
    if (typeof key === 'string' && !key.startsWith('$')) parsePath(key, this.name, 'key');
    if (typeof key === 'string' && key.startsWith('$') && !/^\$(path|method|headers\.[^.]+)$/.test(key)) {
      throw this.optionError('key', "'$path', '$method', '$headers.<name>' or a body path", key);
    }
    this.maxEvents = maxEvents;
    this.flushAfterSeconds = flushAfterSeconds;
    this.key = key;
  }

  override _streamRole(): 'batch' {
    return 'batch';
  }

  override _canHandleErrors(): boolean {
    return false;
  }

  override _kindLabel(): string {
    return 'batch';
  }

  override _specForm(): StepSpecForm {
    if (typeof this.key === 'function') {
      throw new SgError(
        'SG_ERR_NOT_SERIALIZABLE',
        `Batch '${this.name}': a key function exists in code only and cannot be written to a spec file`,
        {
          step: this.name,
          details: { field: 'key' },
        },
      );
    }
    const params: Record<string, unknown> = {};
    if (this.maxEvents !== undefined) params.maxEvents = this.maxEvents;
    if (this.flushAfterSeconds !== undefined) params.flushAfterSeconds = this.flushAfterSeconds;
    if (this.key !== undefined) params.key = this.key;
    return { class: 'Batch', params };
  }

  override _processor(): Processor {
    return new BatchProcessor(this);
  }
}

/** The longest delay setTimeout accepts (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

type OpenBatch = {
  key: BatchKey;
  members: Event[];
  /** removes each member's cancel listener */
  offs: Array<() => void>;
  timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
};

class BatchProcessor implements Processor {
  private readonly groups = new Map<BatchKey, OpenBatch>();
  private out: Outlet | undefined;
  private readonly keyOf: (ev: Event) => unknown;
  /** the server is closing: new batches are emitted on the next turn */
  private draining = false;

  constructor(private readonly step: Batch) {
    this.keyOf = keyReader(step);
  }

  process(ev: Event, out: Outlet): void {
    this.out = out;
    let key: unknown;
    try {
      key = this.keyOf(ev);
    } catch (err) {
      throw toStepError(err, this.step.name);
    }
    if (key !== null && typeof key === 'object') {
      throw new SgError(
        'SG_ERR_BATCH_KEY',
        `Batch '${this.step.name}': the group key must be a string, number, boolean, null or undefined, got ${describe(key)}`,
        {
          step: this.step.name,
          details: { type: describe(key) },
        },
      );
    }
    if (typeof key === 'function' || typeof key === 'symbol' || typeof key === 'bigint') {
      throw new SgError(
        'SG_ERR_BATCH_KEY',
        `Batch '${this.step.name}': the group key must be a string, number, boolean, null or undefined, got ${describe(key)}`,
        {
          step: this.step.name,
          details: { type: describe(key) },
        },
      );
    }
    const k = key as BatchKey;
    let batch = this.groups.get(k);
    if (batch === undefined) {
      batch = { key: k, members: [], offs: [], timer: undefined };
      this.groups.set(k, batch);
      this.schedule(batch);
    }
    // the open batch holds the member's token until it is emitted
    ev._owner.acquire(1);
    batch.members.push(ev);
    const b = batch;
    batch.offs.push(ev._owner.onCancel(() => this.leave(b, ev)));
    if (this.step.maxEvents !== undefined && batch.members.length >= this.step.maxEvents) this.emit(batch);
  }

  /**
   * Emit every open batch at once, oldest first: the server is closing. Batches opened from now on (by
   * events still in flight upstream) are emitted on the next turn, so that they run within the grace period.
   */
  flush(): void {
    this.draining = true;
    for (const batch of [...this.groups.values()]) this.emit(batch);
  }

  stop(): void {
    for (const batch of this.groups.values()) clearTimer(batch);
    this.groups.clear();
  }

  private schedule(batch: OpenBatch): void {
    const after = this.draining ? 0 : this.step.flushAfterSeconds;
    if (after === undefined) return;
    if (after === 0) batch.timer = setImmediate(() => this.emit(batch));
    else this.arm(batch, after * 1000);
  }

  /** A timer of `ms`, chained when longer than setTimeout allows (it would fire at once otherwise). */
  private arm(batch: OpenBatch, ms: number): void {
    batch.timer =
      ms > MAX_TIMER_MS
        ? setTimeout(() => this.arm(batch, ms - MAX_TIMER_MS), MAX_TIMER_MS)
        : setTimeout(() => this.emit(batch), ms);
  }

  /** A member whose request ended before the batch was emitted leaves it. */
  private leave(batch: OpenBatch, ev: Event): void {
    const i = batch.members.indexOf(ev);
    if (i < 0 || this.groups.get(batch.key) !== batch) return;
    batch.members.splice(i, 1);
    batch.offs.splice(i, 1);
    if (batch.members.length === 0) {
      clearTimer(batch);
      this.groups.delete(batch.key);
    }
    ev._owner.release();
  }

  private emit(batch: OpenBatch): void {
    if (this.groups.get(batch.key) !== batch) return;
    this.groups.delete(batch.key);
    clearTimer(batch);
    for (const off of batch.offs) off();
    const members = batch.members;
    if (members.length === 0) return;
    const first = members[0];
    const ev = new Event(
      {
        id: randomUUID(),
        body: this.step.fullEvent ? [...members] : members.map((m) => m.body),
        path: first.path,
        method: first.method,
        headers: {},
        query: {},
        contentType: first.contentType,
        timestamp: Date.now(),
        batch: { size: members.length, key: batch.key, ids: members.map((m) => m.id) },
      },
      new BatchSlots(members),
    );
    const out = this.out!;
    try {
      out.emit(ev);
    } catch (err) {
      out.fail(ev, err);
    }
    for (const m of members) m._owner.release();
  }
}

function clearTimer(batch: OpenBatch): void {
  if (batch.timer === undefined) return;
  clearTimeout(batch.timer as NodeJS.Timeout);
  clearImmediate(batch.timer as NodeJS.Immediate);
  batch.timer = undefined;
}

/** How a Batch reads an event's group key (batching.md, "Groups"). */
function keyReader(step: Batch): (ev: Event) => unknown {
  const key = step.key;
  if (key === undefined) return () => undefined;
  if (typeof key === 'function') return key;
  if (key === '$path') return (ev) => ev.path;
  if (key === '$method') return (ev) => ev.method;
  if (key.startsWith('$headers.')) {
    const h = key.slice('$headers.'.length).toLowerCase();
    return (ev) => ev.headers[h];
  }
  const path = parsePath(key, step.name, 'key')!;
  return (ev) => {
    const body = ev.body;
    return body !== null && typeof body === 'object' ? readPath(body, path, step.name, 'key') : undefined;
  };
}
