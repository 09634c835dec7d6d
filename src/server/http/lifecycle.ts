import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SgError } from '../../errors/index.js';
import type { HttpContext } from './context.js';
import { sendError, toHttpError } from './errors.js';
import { isOpenAIPath } from './openai/front.js';
import { declareRequestState, stateOf } from './request-state.js';

/**
 * What every request goes through, whatever its route: the X-Request-Id echo, our own body reading
 * (bytes in; the graph route decodes them), error responses in the error body, and one access line.
 */
export function installLifecycle(fastify: FastifyInstance, ctx: HttpContext): void {
  const { bodyLimit, retryAfterSeconds } = ctx.options;
  // a silent logger writes nothing: the access line is not even built
  const logAccessOn = ctx.runtime.logger.isLevelEnabled('info');

  declareRequestState(fastify);
  fastify.addHook('onRequest', (request, reply, done) => {
    const state = stateOf(request);
    reply.header('x-request-id', request.id);
    if (ctx.reserved.openai && isOpenAIPath(request.url.split('?', 1)[0] ?? '')) state.openai = true;
    // fastify answers 415 to a Content-Type it cannot parse; http.md wants such bodies as bytes, so it is
    // shown none (the event's headers and contentType come from the request as sent)
    if (request.raw.headers['content-type'] !== undefined && !state.media.valid) {
      delete request.raw.headers['content-type'];
    }
    reply.raw.once('close', () => {
      for (const fn of state.onClose) fn();
      if (logAccessOn) logAccess(request, reply);
      // Node closes idle keep-alive connections only when close() starts; close those that go idle after
      if (ctx.draining) setImmediate(() => fastify.server.closeIdleConnections());
    });
    done();
  });

  fastify.removeAllContentTypeParsers();
  // every body is read as bytes, within bodyLimit (413 both on Content-Length and while reading chunks)
  const asBytes = (_request: unknown, body: Buffer | string, done: (err: null, body: unknown) => void) =>
    done(null, body);
  // JSON named as well: an exact match spares fastify parsing the Content-Type of the commonest requests
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, asBytes);
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, asBytes);

  fastify.setErrorHandler((error, _request, reply) => {
    sendError(reply, toHttpError(error, bodyLimit), retryAfterSeconds);
  });
  fastify.setNotFoundHandler((request, reply) => {
    sendError(
      reply,
      new SgError('SG_ERR_NOT_FOUND', `no route for ${request.method} ${request.url}`),
      retryAfterSeconds,
    );
  });
}

/** fastify's `frameworkErrors`: a URL the router cannot decode, before any hook has run. */
export function frameworkErrorHandler(
  retryAfterSeconds: number,
): (error: Error, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    reply.header('x-request-id', request.id);
    sendError(
      reply,
      new SgError('SG_ERR_BAD_REQUEST', `malformed request URL: ${error.message}`, { cause: error }),
      retryAfterSeconds,
    );
  };
}

function logAccess(request: FastifyRequest, reply: FastifyReply): void {
  const res = reply.raw;
  const state = stateOf(request);
  // a response that did not finish was cut by the client: recorded as 499, never sent (http.md)
  const finished = res.writableFinished;
  request.log.info(
    {
      method: request.method,
      url: request.originalUrl,
      statusCode: finished ? res.statusCode : 499,
      code: finished ? state.errorCode : 'SG_ERR_CLIENT_CLOSED',
      durationMs: Date.now() - state.arrivedAt,
    },
    'request completed',
  );
}
