import type { Event } from '../engine/event.js';
import type { ReplySink } from '../engine/owner.js';
import type { StreamDone } from '../engine/stream-types.js';
import type { SgError } from '../errors/index.js';

/** What server.testStream() returns: the chunk bodies in order, and the done payload. */
export interface TestStream extends AsyncIterable<unknown> {
  readonly done: Promise<StreamDone>;
}

type Item = { value: unknown; take?: () => void };

/**
 * The consumer end of a mock-server request (streaming.md, "The mock server"): a ReplySink that queues
 * chunks as the graph makes them and an async iterator that hands them out. A chunk counts against the
 * stream's buffer until the loop takes it; leaving the loop early cancels the request.
 */
export class TestStreamConsumer implements ReplySink, TestStream {
  private readonly items: Item[] = [];
  private error: SgError | undefined;
  private finished = false;
  private count = 0;
  private donePayload: StreamDone | undefined;
  private waiter: (() => void) | undefined;
  private donePromise: Promise<StreamDone> | undefined;
  private doneSettle: { resolve: (d: StreamDone) => void; reject: (e: unknown) => void } | undefined;
  /** set by the server: cancels the request (the consumer went away) */
  cancel: (() => void) | undefined;
  /** set by the server: called once the response has ended (admission accounting) */
  onEnd: (() => void) | undefined;

  constructor(
    private readonly id: string,
    private readonly fullEvent: boolean,
  ) {}

  // ---- ReplySink: what the graph delivers ----

  reply(body: unknown): void {
    if (body !== undefined) this.items.push({ value: body });
    this.end({ id: this.id, chunks: body === undefined ? 0 : 1 });
  }

  fail(err: SgError): void {
    if (this.finished) return;
    this.error = err;
    this.settle();
  }

  chunk(ev: Event, take: () => void): void {
    this.items.push({ value: this.fullEvent ? ev : ev.body, take });
    this.count++;
    this.wakeUp();
  }

  end(done: StreamDone, ev?: Event): void {
    if (this.finished) return;
    const payload = { ...done, id: done.id ?? this.id, chunks: ev === undefined ? done.chunks : this.count };
    this.donePayload = payload;
    // the end marker this consumer sees carries its own done payload (chunks delivered here, after FlatMaps and Filters)
    if (this.fullEvent && ev !== undefined) this.items.push({ value: endMarkerFor(ev, payload) });
    this.settle();
  }

  // ---- TestStream: what the test loop reads ----

  get done(): Promise<StreamDone> {
    if (this.donePromise === undefined) {
      this.donePromise = new Promise<StreamDone>((resolve, reject) => (this.doneSettle = { resolve, reject }));
      this.settleDone();
    }
    return this.donePromise;
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return {
      next: async (): Promise<IteratorResult<unknown>> => {
        for (;;) {
          const item = this.items.shift();
          if (item !== undefined) {
            item.take?.();
            return { value: item.value, done: false };
          }
          if (this.error !== undefined) throw this.error;
          if (this.finished) return { value: undefined, done: true };
          await new Promise<void>((resolve) => (this.waiter = resolve));
        }
      },
      return: async (): Promise<IteratorResult<unknown>> => {
        // leaving the loop early cancels the stream; chunks still queued are released
        for (const item of this.items.splice(0)) item.take?.();
        if (!this.finished) this.cancel?.();
        return { value: undefined, done: true };
      },
    };
  }

  private settle(): void {
    if (this.finished) return;
    this.finished = true;
    this.onEnd?.();
    this.settleDone();
    this.wakeUp();
  }

  private settleDone(): void {
    if (this.doneSettle === undefined || !this.finished) return;
    if (this.error !== undefined) this.doneSettle.reject(this.error);
    else this.doneSettle.resolve(this.donePayload ?? { id: this.id, chunks: this.count });
  }

  private wakeUp(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

/** The end marker as this consumer sees it: its body is the consumer's own done payload. */
function endMarkerFor(ev: Event, payload: StreamDone): Event {
  try {
    return ev.copy({ body: payload });
  } catch {
    return ev; // a meta that cannot be copied: the end marker as the producer made it
  }
}

/** A TestStream that fails at once (bad options, no responder, a refused request). */
export function failedTestStream(err: unknown, id: string | undefined): TestStream {
  const consumer = new TestStreamConsumer(id ?? '', false);
  consumer.fail(err as SgError);
  return consumer;
}
