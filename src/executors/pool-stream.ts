import { SgError } from '../errors/index.js';
import type { PendingCall } from './pending-call.js';

/** Chunks a worker may send before the main side has taken any (streaming.md, "Backpressure"). */
export const STREAM_WINDOW = 16;

/** What a stream asks of its pool. */
export type StreamControl = {
  /** the consumer took `n` chunks: the worker may send `n` more */
  credit(p: PendingCall, n: number): void;
  /** the consumer stopped early: cancel the call in its worker (which frees its place) */
  cancel(p: PendingCall, reason: unknown): void;
};

type Waiter = { resolve: (r: IteratorResult<unknown>) => void; reject: (e: unknown) => void };

/**
 * A streamed pool call as an async iterator (model-runner.md section 8): the chunks the worker sends, in
 * order; `next()` ends with `{ done: true, value: summary }` or rejects with the call's failure; every chunk
 * taken grants the worker one more; `return()` cancels the call in its worker.
 */
export class PoolStream implements AsyncIterableIterator<unknown> {
  /** the pool's call, once accepted */
  call: PendingCall | undefined = undefined;
  private readonly chunks: unknown[] = [];
  private head = 0;
  private end: { ok: boolean; value: unknown } | undefined = undefined;
  private waiter: Waiter | undefined = undefined;
  private closed = false;

  constructor(private readonly control: StreamControl) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** A chunk from the worker. */
  push(value: unknown): void {
    if (this.closed || this.end !== undefined) return;
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      this.took();
      w.resolve({ done: false, value });
    } else {
      this.chunks.push(value);
    }
  }

  /** The call succeeded: the generator's return value. */
  readonly resolve = (summary: unknown): void => this.finish(true, summary);
  /** The call failed (model error, timeout, abort, worker death…). */
  readonly reject = (err: unknown): void => this.finish(false, err);

  next(): Promise<IteratorResult<unknown>> {
    if (this.head < this.chunks.length) {
      const value = this.chunks[this.head];
      this.chunks[this.head++] = undefined;
      if (this.head === this.chunks.length) {
        this.chunks.length = 0;
        this.head = 0;
      }
      this.took();
      return Promise.resolve({ done: false, value });
    }
    if (this.closed) return Promise.resolve({ done: true, value: undefined });
    const end = this.end;
    if (end !== undefined) {
      this.closed = true;
      return end.ok ? Promise.resolve({ done: true, value: end.value }) : Promise.reject(end.value);
    }
    if (this.waiter !== undefined) {
      return Promise.reject(new Error('PoolStream: next() called while an earlier next() is pending'));
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(value?: unknown): Promise<IteratorResult<unknown>> {
    const p = this.call;
    if (!this.closed) {
      this.closed = true;
      this.chunks.length = 0;
      this.head = 0;
      if (this.end === undefined && p !== undefined) this.control.cancel(p, cancelReason(p));
    }
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve({ done: true, value: undefined });
    // a call its worker still holds (cancelled, or given up on abort): settle once the worker lets go of it, so
    // that its last usage report (sent before the worker answers) is in when a call record is written
    if (p !== undefined && p.slot?.held.has(p.id) === true) {
      return new Promise((resolve) => {
        p.onReleased = () => resolve({ done: true, value });
      });
    }
    return Promise.resolve({ done: true, value });
  }

  private took(): void {
    const p = this.call;
    if (p !== undefined && this.end === undefined) this.control.credit(p, 1);
  }

  private finish(ok: boolean, value: unknown): void {
    if (this.end !== undefined) return;
    this.end = { ok, value };
    const w = this.waiter;
    if (w === undefined || this.closed) return;
    this.waiter = undefined;
    this.closed = true;
    if (ok) w.resolve({ done: true, value });
    else w.reject(value);
  }
}

/** Why a stream its consumer left is cancelled: its signal's reason, else SG_ERR_ABORTED. */
function cancelReason(p: PendingCall): unknown {
  const s = p.c.signal;
  if (s?.aborted) return s.reason;
  const { step, endpointName } = p.c.ctx;
  return new SgError(
    'SG_ERR_ABORTED',
    `step '${step}': model '${endpointName}': its stream was closed by its consumer`,
    {
      step,
      endpoint: endpointName,
    },
  );
}
