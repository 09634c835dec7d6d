import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { SgError } from '../../errors/index.js';
import { OTHER_ROUTE } from '../../monitoring/metrics/http-series.js';
import type { HttpContext } from './context.js';
import { sendError, toHttpError } from './errors.js';
import { bindRouteSeries, endSeries, rebindSeries } from './http-metrics.js';
import { isOpenAIPath } from './openai/front.js';
import { declareRequestState, ENTERS, type RequestState, stateOf } from './request-state.js';

/** the request of a response, for the one 'close' listener all responses share */
const REQUEST = Symbol('servegraph.request');
type TrackedResponse = ServerResponse & { [REQUEST]?: FastifyRequest };

/**
 * What every request goes through, whatever its route: its entry (the response tracked, the metric series
 * bound), the X-Request-Id echo, our own body reading (bytes in; the graph route decodes them), error responses
 * in the error body, the HTTP metrics and one access line.
 */
export function installLifecycle(fastify: FastifyInstance, ctx: HttpContext): void {
  const { bodyLimit, retryAfterSeconds } = ctx.options;

  declareRequestState(fastify);
  const track = requestTracker(ctx);
  const openaiOn = ctx.reserved.openai;
  ctx.enter = (request, reply) => {
    const state = stateOf(request);
    if (state.tracked) return state;
    track(request, reply, state);
    if (openaiOn && isOpenAIPath(request.url.split('?', 1)[0] ?? '')) state.openai = true;
    // fastify answers 415 to a Content-Type it cannot parse; http.md wants such bodies as bytes, so it is
    // shown none (the event's headers and contentType come from the request as sent)
    if (request.raw.headers['content-type'] !== undefined && !state.media.valid) {
      delete request.raw.headers['content-type'];
    }
    return state;
  };
  installRouteEntry(fastify, ctx);
  // the X-Request-Id echo of every response fastify sends; the graph's replies and streams, written to the
  // socket directly, carry it themselves (reply.ts, stream-reply.ts). A response sent before the route's own
  // hooks ran (a 404, a global hook's answer) is tracked here.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    ctx.enter(request, reply);
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

  // every method and path has a route (the graph's `/*`), so no request reaches fastify's body parsing without
  // its route's entry having hidden a Content-Type fastify cannot parse
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
 * Every route registered from now on enters its requests in its first onRequest hook (one hook, not a global
 * one beside the route's: fastify runs each hook through its hook runner). A route whose first hook enters
 * the request itself (admission(), marked ENTERS) gets none.
 */
function installRouteEntry(fastify: FastifyInstance, ctx: HttpContext): void {
  fastify.addHook('onRoute', (route) => {
    const own = route.onRequest;
    const hooks = (own === undefined ? [] : Array.isArray(own) ? own : [own]) as onRequestHookHandler[];
    if ((hooks[0] as { [ENTERS]?: boolean } | undefined)?.[ENTERS] === true) return;
    const series = ctx.httpSeries?.route(route.url);
    const enter = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
      ctx.enter(request, reply);
      if (series !== undefined) bindRouteSeries(request, series);
      done();
    };
    route.onRequest = [enter as onRequestHookHandler, ...hooks];
  });
}

/**
 * What every response gets, once: one 'close' listener (shared by all responses) for what ends with the
 * response (the runtime's in-flight count, the graph request, metrics, the access line).
 */
function requestTracker(ctx: HttpContext): (request: FastifyRequest, reply: FastifyReply, state: RequestState) => void {
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

  return (request, reply, state) => {
    state.tracked = true;
    const res = reply.raw as TrackedResponse;
    res[REQUEST] = request;
    res.on('close', onResponseClose);
  };
}

/** fastify's `frameworkErrors`: a URL the router cannot decode, before any hook has run. */
export function frameworkErrorHandler(
  ctx: HttpContext,
): (error: Error, request: FastifyRequest, reply: FastifyReply) => void {
  const { retryAfterSeconds } = ctx.options;
  return (error, request, reply) => {
    // installed with fastify, before the lifecycle sets ctx.enter: read when the request comes
    ctx.enter(request, reply);
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
