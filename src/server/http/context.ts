import type { FastifyReply, FastifyRequest } from 'fastify';
import { SgError } from '../../errors/index.js';
import type { HttpSeries } from '../../monitoring/metrics/http-series.js';
import type { Monitor } from '../../monitoring/monitor.js';
import type { GraphRuntime } from '../runtime.js';
import { Deadlines } from './deadlines.js';
import type { ResolvedServeOptions } from './options.js';
import type { RequestState } from './request-state.js';

/** What `/readyz` reports (http.md, "Health and readiness"). */
export type Phase = 'loading' | 'ready' | 'failed' | 'draining';

/** The state one served graph shares between its routes, hooks and close(). */
export class HttpContext {
  /** set by close(): readiness turns to draining and new graph requests get 503 SG_ERR_SERVER_CLOSED */
  draining = false;
  private startFailed = false;
  /** the reserved routes that are mounted (http.md, "Routes"): a route not mounted is the graph's */
  readonly reserved = { openai: false, dashboard: false, monitoringApi: false };
  /** the requestTimeoutMs of graph requests (one timer for all) */
  readonly deadlines = new Deadlines();
  /** the silence timers of open streams (heartbeatMs) */
  readonly heartbeats = new Deadlines();
  /**
   * A request's entry, once, by the first hook of ours that sees it (lifecycle.ts): its state, its response
   * tracked until it closes. Set when the lifecycle is installed.
   */
  enter: (request: FastifyRequest, reply: FastifyReply) => RequestState = () => {
    throw new SgError('SG_ERR_INTERNAL', 'servegraph: a request arrived before the HTTP lifecycle was installed');
  };

  constructor(
    readonly runtime: GraphRuntime,
    readonly options: ResolvedServeOptions,
    readonly monitoring?: Monitor,
    /** the HTTP metric series, when metrics are on */
    readonly httpSeries?: HttpSeries,
  ) {
    runtime.ready.then(undefined, () => {
      this.startFailed = true;
    });
  }

  get phase(): Phase {
    if (this.draining) return 'draining';
    if (this.runtime.isReady) return 'ready';
    return this.startFailed ? 'failed' : 'loading';
  }
}
