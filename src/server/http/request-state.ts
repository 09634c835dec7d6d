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
  /**
   * run once when the response closes (ended, or cut by the client), by the one 'close' listener the lifecycle
   * puts on each response: cheaper than a listener per concern
   */
  onClose: Array<() => void>;
};

// a symbol-keyed field of Node's request: nothing added to fastify's types, and faster than a WeakMap
const STATE = Symbol('servegraph.requestState');
type WithState = IncomingMessage & { [STATE]?: RequestState };

export function stateOf(raw: IncomingMessage): RequestState {
  const r = raw as WithState;
  let state = r[STATE];
  if (state === undefined) {
    state = {
      arrivedAt: Date.now(),
      media: parseMediaType(raw.headers['content-type']),
      errorCode: undefined,
      openai: false,
      onClose: [],
    };
    r[STATE] = state;
  }
  return state;
}
