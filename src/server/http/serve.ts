import { METHODS } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { type Logger, type LoggerOptions, pino } from 'pino';
import { describe, SgError } from '../../errors/index.js';
import { type Graph, isGraph } from '../../graph/graph.js';
import { ServegraphMetrics } from '../../monitoring/metrics/registry.js';
import { MetricsAdapter } from '../../monitoring/metrics/sink.js';
import type { Monitor } from '../../monitoring/monitor.js';
import { createLogger } from '../../util/logger.js';
import { createMonitor } from '../monitor.js';
import { GraphRuntime } from '../runtime.js';
import { installAuth } from './auth.js';
import { HttpContext } from './context.js';
import { installCors } from './cors.js';
import { installDashboardRoutes } from './dashboard/routes.js';
import { installGraphRoute } from './graph-route.js';
import { installHealthRoutes } from './health.js';
import { frameworkErrorHandler, installLifecycle } from './lifecycle.js';
import { installMonitoringRoutes } from './monitoring-routes.js';
import { installOpenAIFront } from './openai/front.js';
import {
  MAX_TIMER_MS,
  type ResolvedServeOptions,
  resolveCloseOptions,
  resolveServeOptions,
  type ServeOptions,
} from './options.js';
import { requestIdOf, routableUrl } from './request-to-event.js';

export type { CorsOptions, LoadProgress, OpenAIFrontOptions, ServeOptions } from './options.js';

/** What `serve` resolves with (http.md, `serve`). */
export interface HttpServer {
  /** e.g. 'http://127.0.0.1:8080' */
  readonly url: string;
  /** the port listened on (the one picked when `port: 0`) */
  readonly port: number;
  /** the fastify instance, for hooks and plugins of your own */
  readonly fastify: FastifyInstance;
  /** endpoint and call queries (monitoring.md section 8), the same object as the mock server's */
  readonly monitoring: Monitor;
  /** resolves when every step and model is started; rejects with the first start-up error */
  ready(): Promise<void>;
  /** graceful shutdown (http.md, "Graceful shutdown"); a second call returns the same promise */
  close(options?: { graceMs?: number }): Promise<void>;
}

// CONNECT opens a tunnel, which Node hands to 'connect' listeners, never to a request handler
const METHODS_SERVED = METHODS.filter((m) => m !== 'CONNECT');
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** after the graph has closed, how long connections get to finish their last response before they are cut */
const FLUSH_MS = 2000;

/**
 * Put `graph` behind a fastify HTTP server: validate, start the graph, listen (health and readiness answer
 * while it loads) and resolve once listening and, unless `waitUntilReady: false`, ready.
 */
export async function serve(graph: Graph, options: ServeOptions = {}): Promise<HttpServer> {
  if (!isGraph(graph)) {
    throw new SgError('SG_ERR_INVALID_OPTION', `serve: graph must be a Graph (createGraph()), got ${describe(graph)}`, {
      details: { field: 'graph' },
    });
  }
  const o = resolveServeOptions(options);
  const logger = loggerOf(o.logger);
  // the server's own metrics (not made on first use as for the mock server): every request updates its HTTP series
  const metrics = o.metrics ? new ServegraphMetrics({ graph: graph.name }) : undefined;
  const monitoring = createMonitor(
    graph,
    o.tracking,
    'sqlite:./servegraph.db',
    logger,
    metrics === undefined ? undefined : () => new MetricsAdapter(metrics),
  );
  const runtime = new GraphRuntime(graph, {
    logger,
    maxConcurrency: o.maxConcurrency,
    monitor: monitoring,
    onProgress: o.onProgress,
  });
  monitoring.whenStarted(runtime.ready);
  const ctx = new HttpContext(runtime, o, monitoring, metrics?.http);
  let fastify: FastifyInstance | undefined;
  try {
    fastify = await buildFastify(ctx, logger);
    await fastify.listen({ host: o.host, port: o.port });
  } catch (err) {
    await fastify?.close().catch(() => {});
    await runtime.close({ graceMs: 0 });
    throw listenError(err, o);
  }
  const app = new ServedGraph(fastify, ctx, monitoring);
  if (o.waitUntilReady) {
    try {
      await runtime.ready;
    } catch (err) {
      await app.close({ graceMs: 0 });
      throw err;
    }
  }
  return app;
}

class ServedGraph implements HttpServer {
  readonly url: string;
  readonly port: number;
  private closing: Promise<void> | undefined;
  private readonly onSignal: (() => void) | undefined;

  constructor(
    readonly fastify: FastifyInstance,
    private readonly ctx: HttpContext,
    readonly monitoring: Monitor,
  ) {
    const address = fastify.server.address() as AddressInfo;
    this.port = address.port;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.url = `http://${host}:${address.port}`;
    if (ctx.options.handleSignals) {
      this.onSignal = () => {
        fastify.log.info('signal received: shutting down gracefully');
        this.close().catch((err: unknown) => fastify.log.error({ err }, 'graceful shutdown failed'));
      };
      for (const s of SIGNALS) process.on(s, this.onSignal);
    }
  }

  ready(): Promise<void> {
    return this.ctx.runtime.ready;
  }

  close(options?: { graceMs?: number }): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    let graceMs: number;
    try {
      graceMs = resolveCloseOptions(options, this.ctx.options.graceMs).graceMs;
    } catch (err) {
      return Promise.reject(err);
    }
    this.closing = this.shutDown(Math.min(graceMs, MAX_TIMER_MS));
    return this.closing;
  }

  private async shutDown(graceMs: number): Promise<void> {
    // a second signal now takes Node's default action (exit): the way out of a shutdown that hangs
    if (this.onSignal !== undefined) for (const s of SIGNALS) process.off(s, this.onSignal);
    this.ctx.draining = true;
    // stops listening and closes idle keep-alive connections; resolves once every connection has ended
    const listenerClosed = this.fastify.close();
    await this.ctx.runtime.close({ graceMs });
    let timer: NodeJS.Timeout | undefined;
    const flushed = await Promise.race([
      listenerClosed.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), FLUSH_MS);
      }),
    ]);
    clearTimeout(timer);
    if (!flushed) {
      // a client that holds a connection open without a request in flight does not delay shutdown further
      this.fastify.server.closeAllConnections();
      await listenerClosed;
    }
  }
}

// bench/http/server.mjs (side fastify-as-servegraph) copies this set-up to measure it alone: change both together
async function buildFastify(ctx: HttpContext, logger: Logger): Promise<FastifyInstance> {
  const fastify = Fastify({
    // typed as fastify's base logger so the instance is the plain FastifyInstance users expect
    // a silent logger: fastify's own null logger, which makes no child logger per request
    ...(logger.isLevelEnabled('fatal') ? { loggerInstance: logger as FastifyBaseLogger } : { logger: false }),
    // one access line per request is written by the lifecycle hook instead of fastify's two
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: ctx.options.bodyLimit,
    genReqId: requestIdOf,
    rewriteUrl: (req) => routableUrl(req.url ?? '/'),
    // HEAD goes to the graph like any other method; health routes declare it themselves
    exposeHeadRoutes: false,
    // draining is answered by our own hooks, with the error body and Retry-After
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    frameworkErrors: frameworkErrorHandler(ctx),
  });
  const supported = new Set(fastify.supportedMethods);
  for (const m of METHODS_SERVED) {
    if (!supported.has(m)) fastify.addHttpMethod(m, { hasBody: m !== 'HEAD' && m !== 'TRACE' });
  }
  // a GET body reaches the graph too (http.md: the body table holds for any method)
  fastify.addHttpMethod('GET', { hasBody: true, overrideExisting: true });
  // the front needs a reply to turn into an answer: not mounted for a graph without a responder
  ctx.reserved.openai = ctx.options.openai !== false && ctx.runtime.hasResponder;
  ctx.reserved.monitoringApi = ctx.options.monitoringApi;
  ctx.reserved.dashboard = ctx.options.dashboard;
  if (ctx.options.openai !== false && !ctx.runtime.hasResponder) {
    logger.info('the OpenAI-compatible front is not mounted: the graph has no responder');
  }
  installLifecycle(fastify, ctx);
  // CORS headers first, so that a browser can read the errors of auth too
  await installCors(fastify, ctx);
  installAuth(fastify, ctx);
  // with CORS, OPTIONS on any path is the preflight's (http.md, "Routes")
  const methods = ctx.options.cors === false ? METHODS_SERVED : METHODS_SERVED.filter((m) => m !== 'OPTIONS');
  installHealthRoutes(fastify, ctx, methods);
  if (ctx.reserved.openai) installOpenAIFront(fastify, ctx, methods);
  installMonitoringRoutes(fastify, ctx, methods);
  installDashboardRoutes(fastify, ctx, methods);
  installGraphRoute(fastify, ctx, methods);
  return fastify;
}

function loggerOf(option: boolean | LoggerOptions): Logger {
  if (option === false) return pino({ level: 'silent' });
  if (option === true) return createLogger('info');
  try {
    return pino(option);
  } catch (err) {
    throw new SgError(
      'SG_ERR_INVALID_OPTION',
      `serve: logger: pino refused these options: ${err instanceof Error ? err.message : String(err)}`,
      { details: { field: 'logger' }, cause: err },
    );
  }
}

function listenError(err: unknown, o: ResolvedServeOptions): unknown {
  if (err instanceof SgError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  // the address is the option at fault: the port is taken, or the host is not an address of this machine
  return new SgError(
    'SG_ERR_INVALID_OPTION',
    `serve: cannot listen on ${o.host}:${o.port}: ${err instanceof Error ? err.message : String(err)}`,
    {
      details: {
        field: code === 'EADDRINUSE' || code === 'EACCES' ? 'port' : 'host',
        code: typeof code === 'string' ? code : undefined,
      },
      cause: err,
    },
  );
}
