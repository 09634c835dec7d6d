import type { PoolStream } from './pool-stream.js';
import type { PoolCall } from './pool-types.js';
import type { Slot } from './worker-slot.js';

/** One call of a WorkerPool, from call() until it settles (and, when given up while running, until its worker answers). */
export class PendingCall {
  settled = false;
  queued = false;
  slot: Slot | undefined = undefined;
  timer: NodeJS.Timeout | undefined = undefined;
  /** after a running call was given up: replaces its worker if it is still busy with it */
  stuckTimer: NodeJS.Timeout | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  /** a streamed call: where its chunks go */
  stream: PoolStream | undefined = undefined;
  resolve!: (v: unknown) => void;
  reject!: (e: unknown) => void;

  constructor(
    readonly id: number,
    /** the model's index in the pool */
    readonly model: number,
    public input: unknown,
    readonly c: PoolCall,
  ) {}

  /** Resolve or reject the call once (its timer and abort listener removed); false when it had settled already. */
  settle(ok: boolean, value: unknown): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.onAbort) this.c.signal?.removeEventListener('abort', this.onAbort);
    if (ok) this.resolve(value);
    else this.reject(value);
    return true;
  }

  /** Give the call up (`giveUp`) when its timeoutMs passes or its signal aborts. */
  watch(giveUp: (p: PendingCall, reason: unknown) => void, timedOut: (ms: number) => unknown): void {
    const { timeoutMs, signal } = this.c;
    if (timeoutMs !== undefined && timeoutMs > 0)
      this.timer = setTimeout(() => giveUp(this, timedOut(timeoutMs)), timeoutMs);
    if (signal) {
      this.onAbort = () => giveUp(this, signal.reason);
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /** A chunk of a streamed call from its worker. */
  chunk(value: unknown): void {
    if (!this.settled) this.stream?.push(value);
  }

  /** called once the worker no longer holds the call (it answered, or died) */
  onReleased: (() => void) | undefined = undefined;

  /**
   * Usage reported by the model: to the caller's onUsage; returns what onUsage threw, if it did. Taken until the
   * worker answers, also after the call was given up: a cancelled model reports what it spent while unwinding.
   */
  usage(usage: unknown): unknown {
    if (!this.c.onUsage) return undefined;
    try {
      this.c.onUsage(usage);
    } catch (err) {
      return err ?? new Error('onUsage threw');
    }
    return undefined;
  }
}
