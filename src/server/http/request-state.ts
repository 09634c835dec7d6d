import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpRequestSeries } from '../../monitoring/metrics/http-series.js';
import { type MediaType, parseMediaType } from './body.js';

/** What the trigger keeps about one request between fastify's hooks, the handler and the access line. */
export type RequestState = {
  /** arrival, milliseconds since the epoch (the event's timestamp) */
  readonly arrivedAt: number;
  /** arrival, performance.now() (durations) */
  readonly startedAt: number;
  /** the request's own Content-Type (fastify may be shown a normalised one, see lifecycle.ts) */
  readonly media: MediaType;
  /** the code of the error sent, for the access line */
  errorCode: string | undefined;
  /** a request to the OpenAI-compatible front: its errors take OpenAI's shape */
  openai: boolean;
  /** counted in flight by the runtime (admit()): it leaves when the response closes */
  admitted: boolean;
  /** the graph request answering it, told when the response closes (a disconnect cancels its event) */
  graph: { responseClosed(): void } | undefined;
  /** its HTTP metric series (monitoring.md section 9), when metrics are on */
  series: HttpRequestSeries | undefined;
  /** its response's close is listened to (lifecycle.ts): set once, by the first hook that sees the request */
  tracked: boolean;
};

/** Marks a route's first onRequest hook that enters the request itself (HttpContext.enter), so onRoute adds none. */
export const ENTERS = Symbol('servegraph.enters');

const FIELD = 'servegraphState';
type WithState = FastifyRequest & { [FIELD]: RequestState | null };

/** Declare the field on fastify's requests, so that every request object has it from construction (one shape). */
export function declareRequestState(fastify: FastifyInstance): void {
  fastify.decorateRequest(FIELD, null);
}

/** the last Content-Type parsed, and its parse: most requests of a server send the same one */
let lastContentType: string | undefined;
let lastMedia: MediaType = parseMediaType(undefined);

function mediaOf(header: string | undefined): MediaType {
  if (header === lastContentType) return lastMedia;
  const media = parseMediaType(header);
  lastContentType = header;
  lastMedia = media;
  return media;
}

export function stateOf(request: FastifyRequest): RequestState {
  const r = request as WithState;
  let state = r[FIELD];
  if (state === null || state === undefined) {
    state = {
      // the wall clock (Date.now(): an event's timestamp is never earlier than a clock read before it was sent)
      arrivedAt: Date.now(),
      startedAt: performance.now(),
      media: mediaOf(request.raw.headers['content-type']),
      errorCode: undefined,
      openai: false,
      admitted: false,
      graph: undefined,
      series: undefined,
      tracked: false,
    };
    r[FIELD] = state;
  }
  return state;
}
