import type { CallReport } from './types.js';

export type WriterHooks = {
  /** write these records in one transaction; rejects when the store fails */
  write(batch: CallReport[]): Promise<void>;
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
 *
 * A write that ends does not start another for the few records that came meanwhile: they wait for a full batch,
 * the interval, or a flush(). Writing whatever is there back to back kept the store's thread busy with many small
 * transactions, a core's worth under load (bench/RESULTS.md, "monitoring").
 */
export class RecordWriter {
  /** records waiting from `head` on; a record's sequence number follows from its place (flush() waits for one) */
  private queue: CallReport[] = [];
  private head = 0;
  /** sequence number of the last record added (the first is 1) */
  private seq = 0;
  /** every record with seq ≤ settledSeq has been written or dropped */
  private settledSeq = 0;
  /** records up to this sequence number are written without waiting for a full batch (interval, flush, resume) */
  private drainTo = 0;
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
    this.timer = setInterval(() => {
      this.drainTo = this.seq;
      this.kick();
    }, o.flushIntervalMs);
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
    const size = this.size;
    if (size >= this.o.bufferSize) {
      this.hooks.dropped(1, 'buffer_full');
      return;
    }
    this.queue.push(report);
    this.seq++;
    this.hooks.buffered(size + 1);
    if (size + 1 >= this.o.flushBatchSize && !this.soon && this.writing === undefined) {
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
    if (target > this.drainTo) this.drainTo = target;
    this.kick();
    return p;
  }

  /** Start a write now if one is due and none runs (and the store is up). */
  kick(): void {
    if (this.writing !== undefined || !this.due()) return;
    this.writing = this.writeLoop().finally(() => {
      this.writing = undefined;
      // records added between the loop's last check and now may make a batch already
      this.kick();
    });
  }

  /** A full batch waits, or records someone asked to be written (the interval, flush, resume). */
  private due(): boolean {
    const size = this.size;
    return !this.paused && size > 0 && (size >= this.o.flushBatchSize || this.seq - size < this.drainTo);
  }

  private take(): CallReport[] {
    const end = Math.min(this.queue.length, this.head + MAX_BATCH);
    const batch = this.queue.slice(this.head, end);
    this.head = end;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  private async writeLoop(): Promise<void> {
    while (this.due()) {
      const batch = this.take();
      const last = this.seq - this.size;
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
      this.settle(last);
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
    this.drainTo = this.seq;
    this.kick();
  }

  /** Drop what waits (a store that is down cannot take it), settling flush() callers. */
  dropWaiting(reason: 'store_error' | 'shutdown'): void {
    const n = this.size;
    if (n === 0) return;
    const last = this.seq;
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
