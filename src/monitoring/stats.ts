import { SgError } from '../errors/index.js';
import type { CallRecord, EndpointStats } from './types.js';

const WINDOW_RE = /^([1-9][0-9]*)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A window such as '15m' in milliseconds (monitoring.md section 8). */
export function windowMs(window: string): number {
  const m = WINDOW_RE.exec(window);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : Number.NaN;
  if (!m || ms < 10_000 || ms > 365 * UNIT_MS.d) {
    throw new SgError(
      'SG_ERR_MONITOR_QUERY',
      `window must match ^[1-9][0-9]*(s|m|h|d)$, from 10s to 365d, got '${window}'`,
      {
        details: { parameter: 'window' },
      },
    );
  }
  return ms;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** Nearest-rank percentile of ascending values: the value at rank ceil(p/100 · n). */
function rank(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return round1(sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]);
}

/** The exact figures of a window, from call rows. */
export function computeStats(
  endpoint: string,
  uid: string | null,
  window: string,
  calls: readonly CallRecord[],
  lastRequestAt: string | null,
  now = Date.now(),
): EndpointStats {
  const from = now - windowMs(window);
  const rows = calls.filter((c) => {
    const t = Date.parse(c.startedAt);
    return t >= from && t < now;
  });
  const ok = rows.filter((c) => c.outcome === 'ok');
  const lat = ok.map((c) => c.latencyMs).sort((a, b) => a - b);
  const ttfc = ok
    .filter((c) => c.streamed && c.ttfcMs !== null)
    .map((c) => c.ttfcMs as number)
    .sort((a, b) => a - b);
  const errors = rows.filter((c) => c.outcome === 'error');
  const errorsByCode: Record<string, number> = {};
  for (const e of errors)
    errorsByCode[e.errorCode ?? 'SG_ERR_INTERNAL'] = (errorsByCode[e.errorCode ?? 'SG_ERR_INTERNAL'] ?? 0) + 1;
  const withUsage = rows.filter((c) => c.usage !== null);
  return {
    endpoint,
    uid,
    window,
    from: new Date(from).toISOString(),
    to: new Date(now).toISOString(),
    count: rows.length,
    errors: errors.length,
    aborted: rows.filter((c) => c.outcome === 'aborted').length,
    errorRate: rows.length === 0 ? null : errors.length / rows.length,
    errorsByCode,
    latencyMs: {
      p50: rank(lat, 50),
      p95: rank(lat, 95),
      p99: rank(lat, 99),
      mean: lat.length ? round1(lat.reduce((a, b) => a + b, 0) / lat.length) : null,
      max: lat.length ? round1(lat[lat.length - 1]) : null,
    },
    ttfcMs: ttfc.length ? { p50: rank(ttfc, 50), p95: rank(ttfc, 95), p99: rank(ttfc, 99) } : null,
    tokens: {
      prompt: withUsage.reduce((a, c) => a + (c.promptTokens ?? 0), 0),
      completion: withUsage.reduce((a, c) => a + (c.completionTokens ?? 0), 0),
      total: withUsage.reduce((a, c) => a + (c.totalTokens ?? 0), 0),
      estimated: withUsage.some((c) => c.usageEstimated),
    },
    streamed: rows.filter((c) => c.streamed).length,
    lastRequestAt,
  };
}
