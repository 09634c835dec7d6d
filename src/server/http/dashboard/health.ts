import type { EndpointRecord, EndpointStats } from '../../../monitoring/types.js';
import type { EndpointHealth } from '../../../render/svg.js';

/** What the health of an endpoint is decided from: its state and its figures over the dashboard's window. */
type Judged = Pick<EndpointRecord, 'name' | 'state'> & { stats: Pick<EndpointStats, 'errorRate'> | null };

/**
 * The health class of an endpoint node (monitoring.md section 10): `sg-bad` at an error rate of 5% or more or in
 * state `error`, `sg-warn` with any error or in state `stopped`, else `sg-ok` (no calls in the window is healthy).
 */
export function endpointHealth(e: Judged): EndpointHealth {
  const rate = e.stats?.errorRate ?? null;
  if (e.state === 'error' || (rate !== null && rate >= 0.05)) return 'sg-bad';
  if (e.state === 'stopped' || (rate !== null && rate > 0)) return 'sg-warn';
  return 'sg-ok';
}

/** The health of each endpoint, by name, for `toSvg({ health })`. */
export function healthByEndpoint(endpoints: readonly Judged[]): Record<string, EndpointHealth> {
  const out: Record<string, EndpointHealth> = {};
  for (const e of endpoints) out[e.name] = endpointHealth(e);
  return out;
}
