import type { SgError } from '../errors/index.js';

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
  /** the responder (or an answering error handler) emitted `body` at step `step` */
  reply(body: unknown, step: string): void;
  /** the request fails */
  fail(err: SgError): void;
  /** call `listener` once the owner is cancelled; returns a function that removes it */
  onCancel(listener: () => void): () => void;
}

/** What a trigger (mock server, HTTP) gives a request to receive its outcome. */
export interface ReplySink {
  reply(body: unknown): void;
  fail(err: SgError): void;
}
