import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SgError } from '../../../errors/index.js';
import type { HttpContext } from '../context.js';
import { sendError } from '../errors.js';
import { type Asset, DashboardAssets, PAGE } from './assets.js';
import { DASHBOARD_CSP } from './csp.js';
import { graphSvg } from './graph-svg.js';
import { checkPageQuery } from './page-query.js';
import { dashboardState } from './state.js';

type Query = Record<string, string | string[] | undefined>;

/**
 * The dashboard (monitoring.md section 10): `GET /dashboard` (the page), `/dashboard/assets/*` (its script,
 * styles, formatter and uPlot), `/dashboard/graph.svg` (the graph coloured by health) and
 * `/dashboard/state.json` (the header's figures). Every answer carries the dashboard's CSP; any other method
 * is 405. Mounted unless `dashboard: false`.
 */
export function installDashboardRoutes(fastify: FastifyInstance, ctx: HttpContext, methods: string[]): void {
  const monitor = ctx.monitoring;
  if (!ctx.reserved.dashboard || monitor === undefined) return;
  const { retryAfterSeconds } = ctx.options;
  const assets = new DashboardAssets();
  const fail = (reply: FastifyReply, err: unknown) =>
    sendError(
      reply,
      err instanceof SgError ? err : new SgError('SG_ERR_INTERNAL', `dashboard: ${String(err)}`, { cause: err }),
      retryAfterSeconds,
    );
  const withCsp = (_request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    reply.header('content-security-policy', DASHBOARD_CSP);
    done();
  };
  const route = (url: string, answer: (request: FastifyRequest, reply: FastifyReply) => Promise<void>) => {
    fastify.route({
      method: ['GET', 'HEAD'],
      url,
      onRequest: withCsp,
      handler: (request, reply) => {
        answer(request, reply).catch((err: unknown) => fail(reply, err));
      },
    });
    // a mounted reserved route answers any other method with 405 (http.md, "Routes")
    fastify.route({
      method: methods.filter((m) => m !== 'GET' && m !== 'HEAD'),
      url,
      onRequest: withCsp,
      handler: (request, reply) =>
        fail(
          reply,
          new SgError('SG_ERR_METHOD_NOT_ALLOWED', `${url} answers GET, HEAD only, not ${request.method}`, {
            details: { allow: 'GET, HEAD' },
          }),
        ),
    });
  };

  route('/dashboard', async (request, reply) => {
    checkPageQuery(request.query as Query);
    sendAsset(request, reply, await assets.get(PAGE)!);
  });
  route('/dashboard/assets/*', async (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    const asset = name === PAGE ? undefined : assets.get(name);
    if (asset === undefined) {
      throw new SgError('SG_ERR_NOT_FOUND', `the dashboard has no asset named '${name}'`, {
        details: { asset: name },
      });
    }
    sendAsset(request, reply, await asset);
  });
  route('/dashboard/graph.svg', async (request, reply) => {
    const svg = await graphSvg(ctx.runtime.graph, monitor, request.query as Query);
    reply.code(200).header('cache-control', 'no-store').type('image/svg+xml; charset=utf-8').send(svg);
  });
  route('/dashboard/state.json', async (_request, reply) => {
    const state = await dashboardState(monitor, ctx.reserved.monitoringApi);
    reply
      .code(200)
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(state));
  });
}

/** A fixed file: revalidated on each use (`no-cache`) against its ETag, so an upgrade is never served stale. */
function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: Asset): void {
  reply.header('cache-control', 'no-cache').header('etag', asset.etag);
  const given = request.headers['if-none-match'];
  if (typeof given === 'string' && given.split(',').some((t) => t.trim() === asset.etag)) {
    reply.code(304).send();
    return;
  }
  reply.code(200).type(asset.type).send(asset.body);
}
