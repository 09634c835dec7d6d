import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type MediaType, parseMediaType } from './body.js';

/** What the trigger keeps about one request between fastify's hooks, the handler and the access line. */
export type RequestState = {
  /** arrival, milliseconds since the epoch (the event's timestamp) */
  readonly arrivedAt: number;
  /** the request's own Content-Type (fastify may be shown a normalised one, see lifecycle.ts) */
  readonly media: MediaType;
  /** the code of the error sent, for the access line */
  errorCode: string | undefined;
  /** a request to the OpenAI-compatible front: its errors take OpenAI's shape */
  openai: boolean;
  /**
   * run once when the response closes (ended, or cut by the client), by the one 'close' listener the lifecycle
   * puts on each response: cheaper than a listener per concern
   */
  onClose: Array<() => void>;
};

const FIELD = 'servegraphState';
type WithState = FastifyRequest & { [FIELD]: RequestState | null };

/** Declare the field on fastify's requests, so that every request object has it from construction (one shape). */
export function declareRequestState(fastify: FastifyInstance): void {
  fastify.decorateRequest(FIELD, null);
}

export function stateOf(request: FastifyRequest): RequestState {
  const r = request as WithState;
  let state = r[FIELD];
  if (state === null || state === undefined) {
    const raw = request.raw;
    state = {
      arrivedAt: Date.now(),
      media: parseMediaType(raw.headers['content-type']),
      errorCode: undefined,
      openai: false,
      onClose: [],
    };
    r[FIELD] = state;
  }
  return state;
}
