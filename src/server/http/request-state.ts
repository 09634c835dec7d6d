import type { IncomingMessage } from 'node:http';
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
};

// keyed by Node's request, so nothing is added to fastify's types
const states = new WeakMap<IncomingMessage, RequestState>();

export function stateOf(raw: IncomingMessage): RequestState {
  let state = states.get(raw);
  if (state === undefined) {
    state = {
      arrivedAt: Date.now(),
      media: parseMediaType(raw.headers['content-type']),
      errorCode: undefined,
      openai: false,
    };
    states.set(raw, state);
  }
  return state;
}
