import type { SgError } from '../errors/index.js';
import type { Event } from './event.js';
import type { StreamState } from './stream.js';
import type { StreamDone } from './stream-types.js';

/**
 * What an event answers: one request (a ReplySlot) or the requests of a batch (BatchSlots).
 * Every copy of an event in flight holds one token of its owner, so the owner knows when all
 * of its work is done (graph.md section 3: a request none of whose copies replied gets `undefined`).
 */
export interface EventOwner {
  /** `n` more copies are in flight */
  acquire(n: number): void;
  /** one copy has finished */
  release(): void;
  /** aborts when the request is abandoned (for a batch: when every member is) */
  readonly signal: AbortSignal;
  readonly cancelled: boolean;
  /** the responder (or an answering error handler) emitted `body` at step `step` (`ev`: the event itself) */
  reply(body: unknown, step: string, ev?: Event): void;
  /** the responder emitted a chunk or end marker of `stream`: the reply streams (request owners only) */
  replyStream?(ev: Event, stream: StreamState): void;
  /** the request fails */
  fail(err: SgError): void;
  /** call `listener` once the owner is cancelled; returns a function that removes it */
  onCancel(listener: () => void): () => void;
}

/** What a trigger (mock server, HTTP) gives a request to receive its outcome. */
export interface ReplySink {
  reply(body: unknown): void;
  fail(err: SgError): void;
  /**
   * Present when the consumer takes a streamed reply chunk by chunk (testStream, SSE, NDJSON). `take` must
   * be called once the consumer has taken the chunk: until then it counts against the stream's buffer.
   * Without it, a streamed reply is collected and given to `reply` whole.
   */
  chunk?(ev: Event, take: () => void): void;
  /** the stream's end marker reached the responder (after every chunk); `fail` ends a stream that fails */
  end?(done: StreamDone, ev: Event): void;
  /** the reply streams: the sink gets the stream to cancel it when its consumer goes away */
  streaming?(cancel: (reason: SgError) => void): void;
}
