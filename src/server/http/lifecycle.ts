import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SgError } from '../../errors/index.js';
import { OTHER_ROUTE } from '../../monitoring/metrics/http-series.js';
import type { HttpContext } from './context.js';
import { sendError, toHttpError } from './errors.js';
import { bindSeries, endSeries, installRouteSeries, rebindSeries } from './http-metrics.js';
import { isOpenAIPath } from './openai/front.js';
import { declareRequestState, type RequestState, stateOf } from './request-state.js';

/** the request of a response, for the one 'close' listener all responses share */
const REQUEST = Symbol('servegraph.request');
type TrackedResponse = ServerResponse & { [REQUEST]?: FastifyRequest };

/**
 * What every request goes through, whatever its route: the X-Request-Id echo, our own body reading
 * (bytes in; the graph route decodes them), error responses in the error body, the HTTP metrics and one
 * access line.
 */
export function installLifecycle(fastify: FastifyInstance, ctx: HttpContext): void {
  const { bodyLimit, retryAfterSeconds } = ctx.options;

  declareRequestState(fastify);
  installRouteSeries(fastify, ctx);
  const track = requestTracker(ctx);
  fastify.addHook('onRequest', (request, reply, done) => {
    const state = track(request, reply);
    if (ctx.reserved.openai && isOpenAIPath(request.url.split('?', 1)[0] ?? '')) state.openai = true;
    // fastify answers 415 to a Content-Type it cannot parse; http.md wants such bodies as bytes, so it is
    // shown none (the event's headers and contentType come from the request as sent)
    if (request.raw.headers['content-type'] !== undefined && !state.media.valid) {
      delete request.raw.headers['content-type'];
    }
    done();
  });
  // the X-Request-Id echo of every response fastify sends; the graph's replies and streams, written to the
  // socket directly, carry it themselves (reply.ts, stream-reply.ts)
  fastify.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });

  fastify.removeAllContentTypeParsers();
  // every body is read as bytes, within bodyLimit (413 both on Content-Length and while reading chunks)
  const asIs = (_request: unknown, body: Buffer | string, done: (err: null, body: unknown) => void) => done(null, body);
  // except the commonest, a plain `application/json` (no charset: UTF-8), read as text as fastify's own JSON
  // parser does; an exact match also spares fastify parsing its Content-Type. A RegExp, not the media type, so
  // that `application/json; charset=…` is read as bytes and decoded by its charset.
  fastify.addContentTypeParser(/^application\/json$/, { parseAs: 'string', bodyLimit }, asIs);
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, asIs);

  fastify.setErrorHandler((error, _request, reply) => {
    sendError(reply, toHttpError(error, bodyLimit), retryAfterSeconds);
  });
  fastify.setNotFoundHandler((request, reply) => {
    // no route, or a route that found nothing to answer (CORS's OPTIONS route without preflight): 'other'
    rebindSeries(ctx, request, OTHER_ROUTE);
    sendError(
      reply,
      new SgError('SG_ERR_NOT_FOUND', `no route for ${request.method} ${request.url}`),
      retryAfterSeconds,
    );
  });
}

/**
 * What every response gets, once: one 'close' listener (shared by all responses) for what ends with the
 * response (the runtime's in-flight count, the graph request, metrics, the access line).
 */
function requestTracker(ctx: HttpContext): (request: FastifyRequest, reply: FastifyReply) => RequestState {
  const metricsOn = ctx.httpSeries !== undefined;
  // a silent logger writes nothing: the access line is not even built
  const logAccessOn = ctx.runtime.logger.isLevelEnabled('info');

  function onResponseClose(this: TrackedResponse): void {
    const request = this[REQUEST];
    if (request === undefined) return;
    this[REQUEST] = undefined;
    const state = stateOf(request);
    if (state.admitted) {
      state.admitted = false;
      ctx.runtime.leave();
    }
    state.graph?.responseClosed();
    // a response that did not finish was cut by the client: recorded as 499, never sent (http.md)
    const finished = this.writableFinished;
    if (metricsOn) endSeries(ctx, request, finished ? this.statusCode : 499);
    if (logAccessOn) logAccess(request, this, state, finished);
    // Node closes idle keep-alive connections only when close() starts; close those that go idle after
    if (ctx.draining) {
      const server = request.server.server;
      setImmediate(() => server.closeIdleConnections());
    }
  }

  return (request, reply) => {
    const state = stateOf(request);
    // a routed request is bound to its route's series by the route's first hook (http-metrics.ts)
    if (metricsOn && request.is404) bindSeries(ctx, request, OTHER_ROUTE);
    const res = reply.raw as TrackedResponse;
    res[REQUEST] = request;
    res.on('close', onResponseClose);
    return state;
  };
}

/** fastify's `frameworkErrors`: a URL the router cannot decode, before any hook has run. */
export function frameworkErrorHandler(
  ctx: HttpContext,
): (error: Error, request: FastifyRequest, reply: FastifyReply) => void {
  const track = requestTracker(ctx);
  const { retryAfterSeconds } = ctx.options;
  return (error, request, reply) => {
    track(request, reply);
    sendError(
      reply,
      new SgError('SG_ERR_BAD_REQUEST', `malformed request URL: ${error.message}`, { cause: error }),
      retryAfterSeconds,
    );
  };
}

function logAccess(request: FastifyRequest, res: ServerResponse, state: RequestState, finished: boolean): void {
  request.log.info(
    {
      method: request.method,
      url: request.originalUrl,
      statusCode: finished ? res.statusCode : 499,
      code: finished ? state.errorCode : 'SG_ERR_CLIENT_CLOSED',
      durationMs: Math.round(performance.now() - state.startedAt),
    },
    'request completed',
  );
}
