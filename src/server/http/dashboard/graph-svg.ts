import { SgError } from '../../../errors/index.js';
import type { Graph } from '../../../graph/graph.js';
import type { Monitor } from '../../../monitoring/monitor.js';
import { windowMs } from '../../../monitoring/stats.js';
import type { EndpointHealth } from '../../../render/svg.js';
import { healthByEndpoint } from './health.js';
import { lastValue } from './page-query.js';

/**
 * `GET /dashboard/graph.svg?window=15m`: the graph as `servegraph graph --format svg` draws it, without a
 * stylesheet (the page's styles it), each endpoint node with its health class over the window. With the store
 * unreachable (tracking degraded) the figures are unknown and the nodes keep the default class.
 */
export async function graphSvg(
  graph: Graph,
  monitor: Monitor,
  query: Record<string, string | string[] | undefined>,
): Promise<string> {
  const window = lastValue(query, 'window') ?? '15m';
  windowMs(window);
  let health: Record<string, EndpointHealth> = {};
  try {
    health = healthByEndpoint(await monitor.listEndpoints({ window }));
  } catch (err) {
    if (!(err instanceof SgError && err.code === 'SG_ERR_MONITOR_STORE_UNAVAILABLE')) throw err;
  }
  return graph.toSvg({ health });
}
