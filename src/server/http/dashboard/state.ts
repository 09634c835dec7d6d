import type { Monitor } from '../../../monitoring/monitor.js';

/** What the page's header shows that the monitoring API does not say (`GET /dashboard/state.json`). */
export type DashboardState = {
  graph: string;
  tracking: 'on' | 'off' | 'degraded';
  /** the store URL with its password shown as `***`; null with tracking off */
  store: string | null;
  /** when this server's monitoring started (ISO-8601) */
  startedAt: string;
  uptimeSeconds: number;
  /** call records dropped since start (monitoring.md section 5), in all and by reason */
  droppedRecords: number;
  droppedByReason: Record<string, number>;
  /** whether `/endpoints…` is mounted: the page's table and charts read it */
  monitoringApi: boolean;
  now: string;
};

/** The header's figures, now. */
export async function dashboardState(monitor: Monitor, monitoringApi: boolean): Promise<DashboardState> {
  const byReason = { ...monitor.dropped };
  const now = Date.now();
  return {
    graph: monitor.graph,
    tracking: monitor.trackingState,
    store: monitor.storeUrl,
    startedAt: new Date(monitor.instance.startedAt).toISOString(),
    uptimeSeconds: Math.max(0, Math.floor((now - monitor.instance.startedAt) / 1000)),
    droppedRecords: Object.values(byReason).reduce((a, b) => a + b, 0),
    droppedByReason: byReason,
    monitoringApi,
    now: new Date(now).toISOString(),
  };
}
