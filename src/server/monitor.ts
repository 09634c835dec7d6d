import type { Graph } from '../graph/graph.js';
import type { TrackingOptions } from '../graph/settings.js';
import { ServegraphMetrics } from '../monitoring/metrics/registry.js';
import { MetricsAdapter } from '../monitoring/metrics/sink.js';
import { type MetricsSink, Monitor } from '../monitoring/monitor.js';
import { resolveTracking } from '../monitoring/tracking.js';

type Logger = { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };

/**
 * The monitor of a server: the graph's tracking options overridden field by field by the server's, and the store
 * by precedence (monitoring.md section 3): `sqlite:./servegraph.db` by default for serve(), `sqlite::memory:` for
 * the mock server. The store opens when the first endpoint registers: a graph without models opens none.
 */
export function createMonitor(
  graph: Graph,
  serverTracking: TrackingOptions | false | undefined,
  defaultStore: string,
  logger: Logger,
  metrics: () => MetricsSink = () => new MetricsAdapter(new ServegraphMetrics({ graph: graph.name })),
): Monitor {
  return new Monitor(graph.name, resolveTracking(graph._tracking, serverTracking, defaultStore), logger, metrics);
}
