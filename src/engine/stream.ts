import { type SgError, SgError as SgErrorCtor, toStepError } from '../errors/index.js';
import { newUuid } from '../util/uuid.js';
import { Event } from './event.js';
import type { EventOwner } from './owner.js';
import type { StreamDone } from './stream-types.js';

const noop = (): void => {};

/**
 * How a producer's stream becomes the value it would have emitted (streaming.md, "How it merges"): `merge`
 * is the producer's own merge (or the default one), `place` puts a merged value where the producer's output
 * goes (at its `resultPath` in a copy of the body it received, or the runner's output shape).
 */
export type StreamShape = {
  merge(chunks: unknown[], summary: unknown): unknown;
  place(merged: unknown): unknown;
};

/**
 * Called once when a stream fails or is cancelled (Collectors holding its chunks). Returns `true` when it
 * handles the failure (a Collector with `onStreamError: 'partial'` emits the merge so far): the originating
 * event then does not go to the error route as well.
 */
type FailListener = (err: SgError, step: string) => boolean | undefined;

/**
 * One stream: the chunks one streaming step produces for one input event (streaming.md). It pulls the
 * producer's generator only while fewer than `maxBuffered` chunks wait downstream, closes it on
 * cancellation (signal first, then `return()`), and ends with an end marker or a failure.
 */
export class StreamState {
  readonly id = newUuid();
  /**
   * made when the signal is first read: most producers never read it, and Node's AbortSignals outlive young
   * garbage collections (each one made per stream made every scavenge copy and promote megabytes)
   */
  private controller: AbortController | undefined;
  /** chunks emitted and not yet taken by every consumer */
  buffered = 0;
  produced = 0;
  ended = false;
  failure: SgError | undefined;
  /** the producer's generator return value, once it has ended */
  summary: unknown;
  /** the producer waits for room downstream */
  private parked = false;
  /** ends run()'s promise: resolves (no error) or rejects with the producer's failure; undefined once called */
  private settle: ((err: SgError | undefined) => void) | undefined;
  private emit: ((ev: Event) => void) | undefined;
  private iterator: AsyncIterator<unknown> | Iterator<unknown> | undefined;
  private listeners: FailListener[] = [];
  /** per node: the chunk being handled there and those waiting behind it (one chunk at a time per step) */
  readonly gates = new Map<object, Event[]>();
  private offCancel: () => void;
  private readonly merge: StreamShape['merge'];
  private readonly place: StreamShape['place'];

  constructor(
    /** the event the producer received */
    readonly origin: Event,
    readonly step: string,
    private readonly maxBuffered: number,
    shape: StreamShape,
  ) {
    // its two functions are kept, not the object: callers pass a literal made per stream, and V8 allocates a
    // literal that tends to outlive young collections in the old generation ("pretenuring"); from there its
    // closures kept every young object of every stream alive through scavenges (measured: megabytes promoted
    // per scavenge, streams 2.4x slower)
    this.merge = shape.merge;
    this.place = shape.place;
    const owner = origin._owner;
    this.offCancel = owner.onCancel(() => this.cancel(owner.signal.reason as SgError));
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.failure !== undefined) this.controller.abort(this.failure);
    }
    return this.controller.signal;
  }

  /** What the producer would have emitted had it returned the merge of `chunks` (collected replies, Collectors). */
  finish(chunks: unknown[]): unknown {
    return this.place(this.merge(chunks, this.summary));
  }

  /** The producer's merge and placement (a Collector with a reducer places its own result). */
  get shape(): StreamShape {
    return { merge: this.merge, place: this.place };
  }

  /** The producer returned a plain value, not a stream: this state is not needed. */
  detach(): void {
    this.offCancel();
  }

  onFail(listener: FailListener): void {
    if (this.failure === undefined) this.listeners.push(listener);
  }

  /**
   * Pull `source` to its end, emitting a chunk event per item and an end marker after the last. Resolves
   * when the stream has ended, failed or been cancelled; rejects only with the producer's own failure.
   * It does not wait for a producer that was cancelled to settle (streaming.md, "Cancellation"): a
   * generator stuck on something that ignores its signal holds neither the request nor the server.
   */
  run(source: AsyncIterable<unknown> | Iterator<unknown>, emit: (ev: Event) => void): Promise<void> {
    this.iterator = (
      Symbol.asyncIterator in (source as object) ? (source as AsyncIterable<unknown>)[Symbol.asyncIterator]() : source
    ) as AsyncIterator<unknown> | Iterator<unknown>;
    this.emit = emit;
    if (this.failure !== undefined) {
      // cancelled while the handler was still making its iterable
      this.closeProducer();
      this.offCancel();
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve, reject) => {
      this.settle = (err) => {
        this.settle = undefined;
        this.offCancel();
        if (err === undefined) resolve();
        else reject(err);
      };
    });
    this.pump();
    return done;
  }

  /**
   * Ask the producer for chunks while there is room downstream. A sync iterator's chunks are handled in
   * this loop; an async one's `next()` resumes it from `onResult`. No Promise is made here per chunk
   * besides the generator's own.
   */
  private pump(): void {
    this.parked = false;
    const it = this.iterator;
    while (it !== undefined && this.failure === undefined && this.settle !== undefined) {
      if (this.buffered >= this.maxBuffered) {
        this.parked = true; // taken() resumes
        return;
      }
      let r: IteratorResult<unknown> | Promise<IteratorResult<unknown>>;
      try {
        r = it.next();
      } catch (err) {
        this.onError(err);
        return;
      }
      if (r instanceof Promise) {
        r.then(this.onResult, this.onError);
        return;
      }
      if (typeof (r as { then?: unknown }).then === 'function') {
        Promise.resolve(r).then(this.onResult, this.onError); // a hand-written iterator's thenable
        return;
      }
      if (!this.handle(r)) return;
    }
  }

  private readonly onResult = (r: IteratorResult<unknown>): void => {
    if (this.handle(r)) this.pump();
  };

  private readonly onError = (err: unknown): void => {
    // thrown after cancellation (or after the stream failed elsewhere): not reported (streaming.md)
    const settle = this.settle;
    if (this.failure !== undefined || settle === undefined) return;
    this.settle = undefined; // settled here, not by fail()
    const e = toStepError(err, this.step);
    // a Collector that makes a partial result of it handles it; otherwise the producer's event fails with it
    const handled = this.fail(e, this.step);
    if (handled) settle(undefined);
    else settle(e);
  };

  /** One result of the producer's `next()`; whether to go on pulling. */
  private handle(r: IteratorResult<unknown>): boolean {
    if (this.failure !== undefined || this.settle === undefined) return false;
    if (r.done) {
      this.ended = true;
      this.iterator = undefined;
      try {
        hold(this.endMarker(r.value), this.emit!);
      } catch (err) {
        this.settle?.(toStepError(err, this.step));
        return false;
      }
      this.settle?.(undefined);
      return false;
    }
    // an error chunk fails the stream exactly as if the producer had thrown it
    if (r.value instanceof Error) {
      this.onError(r.value);
      return false;
    }
    this.buffered++;
    try {
      hold(this.chunk(r.value), this.emit!);
    } catch (err) {
      // the chunk could not be passed on (a branch copy failed): the stream fails at the producer
      this.onError(err);
      return false;
    }
    return true;
  }

  /** A chunk event has been taken by every consumer (or dropped): make room for the producer. */
  taken(): void {
    this.buffered--;
    if (this.parked && this.buffered < this.maxBuffered) this.pump();
  }

  /** Cancel the stream: its signal aborts with `reason`, then the producer's generator is closed. */
  cancel(reason: SgError): void {
    this.fail(reason, this.step);
  }

  /**
   * The stream fails at `step`: no more chunks, no end marker; listeners learn of it once. Returns whether
   * a listener handled the failure (then the caller does not route the originating event to the error route).
   */
  fail(err: SgError, step: string): boolean {
    if (this.failure !== undefined || this.ended) return false;
    this.failure = err;
    this.controller?.abort(err);
    this.closeProducer();
    const listeners = this.listeners;
    this.listeners = [];
    let handled = false;
    for (const l of listeners) if (l(err, step) === true) handled = true;
    // run() resolves now: the producer is not waited for (its later errors are not reported)
    this.settle?.(undefined);
    return handled;
  }

  private closeProducer(): void {
    const it = this.iterator;
    this.iterator = undefined;
    if (it?.return === undefined) return;
    try {
      const r = it.return(undefined);
      if (r instanceof Promise) this.producerClosed = r.then(noop, noop);
    } catch {
      // a producer that throws while closing is not reported (streaming.md, "Cancellation")
    }
  }

  /**
   * Settles once a cancelled producer has closed (its `return()` settled): what a call record waits for, so
   * that the usage a model reports while unwinding is kept. run() never waits for it.
   */
  producerClosed: Promise<void> = Promise.resolve();

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
        headers: o._headers,
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
