import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SgError } from '../../errors/index.js';
import type { Monitor } from '../../monitoring/monitor.js';
import type { HttpContext } from './context.js';
import { sendError } from './errors.js';

type Query = Record<string, string | string[] | undefined>;

function one(q: Query, name: string): string | undefined {
  const v = q[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

function flag(q: Query, name: string, dflt: boolean): boolean {
  const v = one(q, name);
  if (v === undefined) return dflt;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new SgError('SG_ERR_MONITOR_QUERY', `${name} must be true or false, got '${v}'`, {
    details: { parameter: name },
  });
}

function sendJson(reply: FastifyReply, body: unknown): void {
  reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

/**
 * The monitoring API (monitoring.md section 8) and `/metrics` (section 9): GET routes reserved on the server's
 * port when switched on (http.md, "Routes"); any other method is 405.
 */
export function installMonitoringRoutes(fastify: FastifyInstance, ctx: HttpContext, methods: string[]): void {
  const monitor = ctx.monitoring;
  if (monitor === undefined) return;
  const { retryAfterSeconds } = ctx.options;
  const fail = (reply: FastifyReply, err: unknown) =>
    sendError(
      reply,
      err instanceof SgError
        ? err
        : new SgError('SG_ERR_INTERNAL', `monitoring query failed: ${String(err)}`, { cause: err }),
      retryAfterSeconds,
    );
  // a mounted reserved route answers any other method with 405 (http.md, "Routes")
  const getOnly = (url: string) =>
    fastify.route({
      method: methods.filter((m) => m !== 'GET' && m !== 'HEAD'),
      url,
      handler: (request, reply) =>
        sendError(
          reply,
          new SgError('SG_ERR_METHOD_NOT_ALLOWED', `${url} answers GET, HEAD only, not ${request.method}`, {
            details: { allow: 'GET, HEAD' },
          }),
          retryAfterSeconds,
        ),
    });
  const get = (url: string, answer: (m: Monitor, q: Query, params: Record<string, string>) => Promise<unknown>) => {
    fastify.route({
      method: ['GET', 'HEAD'],
      url,
      handler: (request: FastifyRequest, reply: FastifyReply) => {
        answer(monitor, request.query as Query, request.params as Record<string, string>).then(
          (body) => sendJson(reply, body),
          (err: unknown) => fail(reply, err),
        );
      },
    });
    getOnly(url);
  };

  if (ctx.reserved.monitoringApi) {
    get('/endpoints', async (m, q) => {
      const window = one(q, 'window') ?? '15m';
      const all = flag(q, 'all', false);
      const withStats = flag(q, 'stats', true);
      const endpoints = await m.listEndpoints({ window, all });
      return {
        graph: m.graph,
        tracking: m.trackingState,
        window,
        endpoints: withStats ? endpoints : endpoints.map((e) => ({ ...e, stats: null })),
      };
    });
    get('/endpoints/:name', (m, _q, p) => m.getEndpoint(p.name));
    get('/endpoints/:name/stats', (m, q, p) => m.stats(p.name, { window: one(q, 'window'), uid: one(q, 'uid') }));
    get('/endpoints/:name/series', (m, q, p) => m.series(p.name, { window: one(q, 'window'), step: one(q, 'step') }));
    get('/endpoints/:name/calls', (m, q, p) => {
      const limitText = one(q, 'limit');
      const limit = limitText === undefined ? undefined : /^\d+$/.test(limitText) ? Number(limitText) : Number.NaN;
      return m.calls(p.name, { limit, outcome: one(q, 'outcome') as 'ok' | 'error' | 'aborted' | undefined });
    });
  }
  if (ctx.options.metrics) {
    fastify.route({
      method: ['GET', 'HEAD'],
      url: '/metrics',
      handler: (_request, reply) => {
        monitor.metricsText().then(
          (text) => reply.code(200).type('text/plain; version=0.0.4; charset=utf-8').send(text),
          (err: unknown) => fail(reply, err),
        );
      },
    });
    getOnly('/metrics');
  }
}
