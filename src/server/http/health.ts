import type { FastifyInstance, FastifyReply } from 'fastify';
import { SgError } from '../../errors/index.js';
import type { HttpContext } from './context.js';
import { sendError } from './errors.js';

const ALLOW = 'GET, HEAD';

/**
 * `GET /healthz` and `GET /readyz` (http.md, "Health and readiness"). They never count towards
 * maxConcurrency and answer while the server is full, loading or draining. Other methods are 405.
 */
export function installHealthRoutes(fastify: FastifyInstance, ctx: HttpContext, methods: string[]): void {
  const others = methods.filter((m) => m !== 'GET' && m !== 'HEAD');
  const { retryAfterSeconds } = ctx.options;

  fastify.route({
    method: ['GET', 'HEAD'],
    url: '/healthz',
    handler: (_request, reply) => {
      sendJson(reply, 200, { status: 'ok', tracking: ctx.monitoring?.trackingState ?? 'off' });
    },
  });

  fastify.route({
    method: ['GET', 'HEAD'],
    url: '/readyz',
    handler: (_request, reply) => {
      const phase = ctx.phase;
      const models = ctx.runtime.loads.states();
      if (phase === 'ready') {
        sendJson(reply, 200, { status: 'ready', models });
        return;
      }
      // a failed start-up does not get better by retrying: no Retry-After then
      if (phase !== 'failed') reply.header('retry-after', String(retryAfterSeconds));
      sendJson(reply, 503, { status: phase, models });
    },
  });

  for (const url of ['/healthz', '/readyz']) {
    fastify.route({
      method: others,
      url,
      handler: (request, reply) => {
        sendError(
          reply,
          new SgError('SG_ERR_METHOD_NOT_ALLOWED', `${url} answers ${ALLOW} only, not ${request.method}`, {
            details: { allow: ALLOW },
          }),
          retryAfterSeconds,
        );
      },
    });
  }
}

function sendJson(reply: FastifyReply, status: number, body: unknown): void {
  reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(body));
}
