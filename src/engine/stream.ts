import { randomUUID } from 'node:crypto';
import { type SgError, SgError as SgErrorCtor, toStepError } from '../errors/index.js';
import { Event } from './event.js';
import type { EventOwner } from './owner.js';
import type { StreamDone } from './stream-types.js';

/**
 * How a producer's stream becomes the value it would have emitted (streaming.md, "How it merges"): `merge`
 * is the producer's own merge (or the default one), `place` puts a merged value where the producer's output
 * goes (at its `resultPath` in a copy of the body it received, or the runner's output shape).
 */
export type StreamShape = {
  merge(chunks: unknown[], summary: unknown): unknown;
  place(merged: unknown): unknown;
};

/** Called once when a stream fails or is cancelled (Collectors holding its chunks, the reply). */
type FailListener = (err: SgError, step: string) => void;

/**
 * One stream: the chunks one streaming step produces for one input event (streaming.md). It pulls the
 * producer's generator only while fewer than `maxBuffered` chunks wait downstream, closes it on
 * cancellation (signal first, then `return()`), and ends with an end marker or a failure.
 */
export class StreamState {
  readonly id = randomUUID();
  readonly controller = new AbortController();
  /** chunks emitted and not yet taken by every consumer */
  buffered = 0;
  produced = 0;
  ended = false;
  failure: SgError | undefined;
  /** the producer's generator return value, once it has ended */
  summary: unknown;
  private wake: (() => void) | undefined;
  private iterator: AsyncIterator<unknown> | Iterator<unknown> | undefined;
  private listeners: FailListener[] = [];
  /** per node: the chunk being handled there and those waiting behind it (one chunk at a time per step) */
  readonly gates = new Map<object, Event[]>();
  private offCancel: () => void;

  constructor(
    /** the event the producer received */
    readonly origin: Event,
    readonly step: string,
    private readonly maxBuffered: number,
    readonly shape: StreamShape,
  ) {
    const owner = origin._owner;
    this.offCancel = owner.onCancel(() => this.cancel(owner.signal.reason as SgError));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** What the producer would have emitted had it returned the merge of `chunks` (collected replies, Collectors). */
  finish(chunks: unknown[]): unknown {
    return this.shape.place(this.shape.merge(chunks, this.summary));
  }

  /** The producer returned a plain value, not a stream: this state is not needed. */
  detach(): void {
    this.offCancel();
  }

  onFail(listener: FailListener): void {
    if (this.failure !== undefined) listener(this.failure, this.step);
    else this.listeners.push(listener);
  }

  /**
   * Pull `source` to its end, emitting a chunk event per item and an end marker after the last. Resolves
   * when the stream has ended, failed or been cancelled; rejects only with the producer's own failure.
   */
  async run(source: AsyncIterable<unknown> | Iterator<unknown>, emit: (ev: Event) => void): Promise<void> {
    const it = (
      Symbol.asyncIterator in (source as object) ? (source as AsyncIterable<unknown>)[Symbol.asyncIterator]() : source
    ) as AsyncIterator<unknown> | Iterator<unknown>;
    this.iterator = it;
    try {
      for (;;) {
        if (this.buffered >= this.maxBuffered) await new Promise<void>((resolve) => (this.wake = resolve));
        if (this.failure !== undefined) return;
        const r = await it.next();
        if (this.failure !== undefined) return;
        if (r.done) {
          this.ended = true;
          hold(this.endMarker(r.value), emit);
          return;
        }
        // an error chunk fails the stream exactly as if the producer had thrown it
        if (r.value instanceof Error) throw r.value;
        this.buffered++;
        hold(this.chunk(r.value), emit);
      }
    } catch (err) {
      if (this.failure !== undefined) return; // thrown after cancellation: not reported (streaming.md)
      const e = toStepError(err, this.step);
      this.fail(e, this.step);
      throw e;
    } finally {
      this.offCancel();
    }
  }

  /** A chunk event has been taken by every consumer (or dropped): make room for the producer. */
  taken(): void {
    this.buffered--;
    const w = this.wake;
    if (w !== undefined && this.buffered < this.maxBuffered) {
      this.wake = undefined;
      w();
    }
  }

  /** Cancel the stream: its signal aborts with `reason`, then the producer's generator is closed. */
  cancel(reason: SgError): void {
    this.fail(reason, this.step);
  }

  /** The stream fails at `step`: no more chunks, no end marker; listeners learn of it once. */
  fail(err: SgError, step: string): void {
    if (this.failure !== undefined || this.ended) return;
    this.failure = err;
    this.controller.abort(err);
    this.closeProducer();
    const w = this.wake;
    this.wake = undefined;
    w?.();
    const listeners = this.listeners;
    this.listeners = [];
    for (const l of listeners) l(err, step);
  }

  private closeProducer(): void {
    const it = this.iterator;
    this.iterator = undefined;
    if (it?.return === undefined) return;
    try {
      const r = it.return(undefined);
      if (r instanceof Promise) r.catch(() => {});
    } catch {
      // a producer that throws while closing is not reported (streaming.md, "Cancellation")
    }
  }

  private chunk(body: unknown): Event {
    return this.derive(body, { id: this.id, seq: this.produced++, last: false, step: this.step });
  }

  private endMarker(summary: unknown): Event {
    this.summary = summary;
    const done: StreamDone = { id: this.origin.id, chunks: this.produced };
    if (summary !== null && typeof summary === 'object' && !Array.isArray(summary))
      Object.assign(done, summary, { id: this.origin.id, chunks: this.produced });
    else if (summary !== undefined) done.result = summary;
    return this.derive(done, { id: this.id, seq: this.produced, last: true, step: this.step });
  }

  private derive(body: unknown, stream: Event['stream']): Event {
    const o = this.origin;
    return new Event(
      {
        id: o.id,
        body,
        path: o.path,
        method: o.method,
        headers: o.headers,
        query: o.query,
        contentType: o.contentType,
        timestamp: o._ts,
        meta: o._meta === undefined ? undefined : { ...o._meta },
        stream,
      },
      new ChunkOwner(o._owner, this),
    );
  }
}

/**
 * The owner of a chunk event: the request's owner (every copy still counts for the request), plus a count
 * of the chunk's copies in flight, so the stream knows when the chunk has been taken everywhere.
 */
export class ChunkOwner implements EventOwner {
  private refs = 0;

  constructor(
    readonly request: EventOwner,
    readonly stream: StreamState,
  ) {}

  acquire(n: number): void {
    this.refs += n;
    this.request.acquire(n);
  }

  release(): void {
    if (--this.refs === 0) this.stream.taken();
    this.request.release();
  }

  get signal(): AbortSignal {
    return this.stream.signal;
  }

  get cancelled(): boolean {
    return this.stream.failure !== undefined || this.request.cancelled;
  }

  /** The responder emitted a chunk or the end marker: the reply streams. */
  reply(body: unknown, step: string, ev?: Event): void {
    if (ev !== undefined && this.request.replyStream !== undefined) this.request.replyStream(ev, this.stream);
    else this.request.reply(body, step);
  }

  fail(err: SgError): void {
    this.request.fail(err);
  }

  onCancel(listener: () => void): () => void {
    return this.request.onCancel(listener);
  }
}

/** Emit with the producer holding one copy meanwhile: a chunk nobody keeps is taken when emit returns. */
function hold(ev: Event, emit: (ev: Event) => void): void {
  const owner = ev._owner;
  owner.acquire(1);
  try {
    emit(ev);
  } finally {
    owner.release();
  }
}

/** The stream a chunk event or end marker belongs to. */
export function streamOf(ev: Event): StreamState | undefined {
  const owner = ev._owner;
  return owner instanceof ChunkOwner ? owner.stream : undefined;
}

/** SG_ERR_CLIENT_CLOSED: the reason a stream is cancelled when its consumer goes away. */
export function consumerGone(): SgError {
  return new SgErrorCtor('SG_ERR_CLIENT_CLOSED', 'the consumer stopped reading the stream');
}
