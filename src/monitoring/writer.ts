import type { CallReport } from './types.js';

/** A record waiting to be written, with its sequence number (flush() waits for a number). */
export type Pending = { seq: number; report: CallReport };

export type WriterHooks = {
  /** write these records in one transaction; rejects when the store fails */
  write(batch: Pending[]): Promise<void>;
  /** records given up on, with why */
  dropped(n: number, reason: 'buffer_full' | 'store_error' | 'shutdown' | 'internal'): void;
  /** the store failed for good after its retries: monitoring turns degraded and reopens it */
  failed(err: unknown): void;
  /** records waiting (the buffer gauge) */
  buffered(n: number): void;
  /** whether a failed write is worth retrying (a store file that disappeared is not: reopen it at once) */
  retryable?(err: unknown): boolean;
};

const MAX_BATCH = 5000;
const RETRY_DELAYS_MS = [1000, 2000, 4000];

/**
 * The bounded buffer and its background writer (monitoring.md section 5): `add` is synchronous and never waits;
 * writes run every `flushIntervalMs`, or once `flushBatchSize` records wait, one at a time; a failed write is
 * retried after 1, 2 and 4 s while new records keep buffering, then its batch is dropped.
 */
export class RecordWriter {
  private queue: Pending[] = [];
  private head = 0;
  private seq = 0;
  /** every record with seq ≤ settledSeq has been written or dropped */
  private settledSeq = 0;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private soon = false;
  private waiters: Array<{ seq: number; resolve: () => void }> = [];
  private closed = false;
  /** writes pause while the store is down (degraded); records keep buffering up to bufferSize */
  paused = false;

  constructor(
    private readonly o: { bufferSize: number; flushIntervalMs: number; flushBatchSize: number },
    private readonly hooks: WriterHooks,
  ) {
    this.timer = setInterval(() => this.kick(), o.flushIntervalMs);
    this.timer.unref();
  }

  get size(): number {
    return this.queue.length - this.head;
  }

  /** Buffer a record, or drop and count it when the buffer is full. Never throws, never waits. */
  add(report: CallReport): void {
    if (this.closed) {
      this.hooks.dropped(1, 'shutdown');
      return;
    }
    if (this.size >= this.o.bufferSize) {
      this.hooks.dropped(1, 'buffer_full');
      return;
    }
    this.queue.push({ seq: ++this.seq, report });
    this.hooks.buffered(this.size);
    if (this.size >= this.o.flushBatchSize && !this.soon) {
      this.soon = true;
      setImmediate(() => {
        this.soon = false;
        this.kick();
      });
    }
  }

  /**
   * Resolves once every record buffered before the call is written or dropped, or at once while the store is down
   * (degraded): those records wait in the buffer for the reopened store.
   */
  flush(): Promise<void> {
    const target = this.seq;
    if (this.settledSeq >= target || this.paused) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.waiters.push({ seq: target, resolve }));
    this.kick();
    return p;
  }

  /** Start a write now if none runs (and the store is up). */
  kick(): void {
    if (this.writing !== undefined || this.paused || this.size === 0) return;
    this.writing = this.writeLoop().finally(() => {
      this.writing = undefined;
    });
  }

  private take(): Pending[] {
    const end = Math.min(this.queue.length, this.head + MAX_BATCH);
    const batch = this.queue.slice(this.head, end);
    this.head = end;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  private async writeLoop(): Promise<void> {
    while (this.size > 0 && !this.paused) {
      const batch = this.take();
      this.hooks.buffered(this.size);
      let ok = false;
      for (let attempt = 0; ; attempt++) {
        try {
          await this.hooks.write(batch);
          ok = true;
          break;
        } catch (err) {
          if (attempt >= RETRY_DELAYS_MS.length || this.closed || this.hooks.retryable?.(err) === false) {
            this.hooks.dropped(batch.length, 'store_error');
            this.hooks.failed(err);
            break;
          }
          await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]).unref());
        }
      }
      this.settle(batch[batch.length - 1].seq);
      if (!ok) break;
    }
  }

  private settle(seq: number): void {
    if (seq > this.settledSeq) this.settledSeq = seq;
    if (this.waiters.length === 0) return;
    const left: typeof this.waiters = [];
    for (const w of this.waiters) (w.seq <= this.settledSeq ? w.resolve : () => left.push(w))();
    this.waiters = left;
  }

  /** The store is down: writes stop until `resume()`, and flush() callers are answered now. */
  pause(): void {
    this.paused = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve();
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  /** Drop what waits (a store that is down cannot take it), settling flush() callers. */
  dropWaiting(reason: 'store_error' | 'shutdown'): void {
    const n = this.size;
    if (n === 0) return;
    const last = this.queue[this.queue.length - 1].seq;
    this.queue = [];
    this.head = 0;
    this.hooks.dropped(n, reason);
    this.hooks.buffered(0);
    this.settle(last);
  }

  /** Shutdown: write what is buffered within `graceMs`, drop the rest (section 5). */
  async close(graceMs: number): Promise<void> {
    clearInterval(this.timer);
    if (!this.paused) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.flush(), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    this.closed = true;
    this.dropWaiting('shutdown');
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }
}
