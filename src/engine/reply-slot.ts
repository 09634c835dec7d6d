import type { SgError } from '../errors/index.js';
import { SgError as SgErrorClass, toStepError } from '../errors/index.js';
import type { Event } from './event.js';
import type { EventOwner, ReplySink } from './owner.js';
import type { StreamState } from './stream.js';
import type { StreamDone } from './stream-types.js';

/**
 * The state of one request in the engine: the copies of its events in flight, whether its reply is
 * decided, and its cancellation. The first reply (or failure) wins; later ones are ignored.
 */
export class ReplySlot implements EventOwner {
  /** copies in flight; starts at 1 for the trigger's own token, released once the event is injected */
  private pending = 1;
  decided = false;
  private controller: AbortController | undefined;
  private reason: SgError | undefined;
  private listeners: Array<() => void> | undefined;
  /** the stream that is the reply, once a chunk reached the responder */
  private replyStream_: StreamState | undefined;
  /** its chunks, when the consumer wants the reply whole (test(), JSON over HTTP) */
  private collected: unknown[] | undefined;
  /** @internal links of the runtime's list of active requests */
  _prev: ReplySlot | undefined = undefined;
  /** @internal */
  _next: ReplySlot | undefined = undefined;

  constructor(
    readonly id: string,
    private readonly sink: ReplySink,
    /** the graph has no responder: a finished request answers `{ id }` */
    private readonly noResponder: boolean,
    private readonly onFinished: (slot: ReplySlot) => void,
  ) {}

  acquire(n: number): void {
    this.pending += n;
  }

  release(): void {
    if (--this.pending === 0) this.finish();
  }

  get finished(): boolean {
    return this.pending === 0;
  }

  get signal(): AbortSignal {
    // created on first use: most events never look at their signal
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  get cancelled(): boolean {
    return this.reason !== undefined;
  }

  reply(body: unknown): void {
    if (this.decided || this.replyStream_ !== undefined) return;
    this.decided = true;
    this.sink.reply(body);
  }

  fail(err: SgError): void {
    if (this.decided) return;
    this.decided = true;
    this.sink.fail(err);
  }

  /** Abandon the request: its signal aborts with `reason`, and it fails with it unless already answered. */
  cancel(reason: SgError): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    // decide first: a listener (a Batch letting the member go) may release the last token and finish the slot
    this.fail(reason);
    this.controller?.abort(reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const l of listeners) l();
  }

  onCancel(listener: () => void): () => void {
    if (this.reason !== undefined) {
      listener();
      return () => {};
    }
    if (this.listeners === undefined) this.listeners = [];
    this.listeners.push(listener);
    return () => {
      const i = this.listeners?.indexOf(listener) ?? -1;
      if (i >= 0) this.listeners!.splice(i, 1);
    };
  }

  /**
   * A chunk or end marker of `stream` reached the responder: the reply streams (streaming.md). The first
   * stream to reach it is the reply; chunks of other streams, and plain events, are then ignored for it.
   */
  replyStream(ev: Event, stream: StreamState): void {
    if (this.decided) return;
    if (this.replyStream_ === undefined) {
      this.replyStream_ = stream;
      if (this.sink.chunk === undefined) this.collected = [];
    } else if (this.replyStream_ !== stream) return;
    const sink = this.sink;
    if (ev.stream!.last) {
      this.decided = true;
      const done = ev.body as StreamDone;
      if (sink.end !== undefined) {
        sink.end(done, ev);
        return;
      }
      // the consumer wants the reply whole: what a default Collector at the responder would emit
      let whole: unknown;
      try {
        whole = stream.finish(this.collected!);
      } catch (err) {
        // the producer's collect (or writing at its resultPath) failed: the reply fails, never hangs
        sink.fail(toStepError(err, stream.step));
        return;
      }
      sink.reply(whole);
      return;
    }
    if (sink.chunk === undefined) {
      this.collected!.push(ev.body);
      return;
    }
    // the consumer holds the chunk until it has taken it: until then it counts against the stream's buffer
    const owner = ev._owner;
    owner.acquire(1);
    let taken = false;
    sink.chunk(ev, () => {
      if (taken) return;
      taken = true;
      owner.release();
    });
  }

  private finish(): void {
    if (!this.decided && this.replyStream_ !== undefined) {
      // every copy has finished but the stream never ended at the responder: it failed or was cancelled
      this.decided = true;
      this.sink.fail(
        this.replyStream_.failure ??
          new SgErrorClass('SG_ERR_INTERNAL', 'the reply stream ended without its end marker'),
      );
    }
    if (!this.decided) this.reply(this.noResponder ? { id: this.id } : undefined);
    this.listeners = undefined;
    this.onFinished(this);
  }
}

/** The requests with events still running: an intrusive doubly linked list (no table for the GC to promote). */
export class SlotList {
  private head: ReplySlot | undefined;
  count = 0;

  push(slot: ReplySlot): void {
    slot._next = this.head;
    if (this.head !== undefined) this.head._prev = slot;
    this.head = slot;
    this.count++;
  }

  remove(slot: ReplySlot): void {
    if (slot._prev !== undefined) slot._prev._next = slot._next;
    else if (this.head === slot) this.head = slot._next;
    else return; // not in the list
    if (slot._next !== undefined) slot._next._prev = slot._prev;
    slot._prev = slot._next = undefined;
    this.count--;
  }

  toArray(): ReplySlot[] {
    const out: ReplySlot[] = [];
    for (let s = this.head; s !== undefined; s = s._next) out.push(s);
    return out;
  }
}
