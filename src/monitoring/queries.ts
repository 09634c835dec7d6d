import { SgError } from '../errors/index.js';
import { histogramPercentile } from './rollup.js';
import { windowMs } from './stats.js';
import { LATENCY_BOUNDS_MS, type MonitorStore, TTFC_BOUNDS_MS } from './store/store.js';
import type { EndpointStats } from './types.js';

/** Windows up to this long get exact percentiles from the call rows; longer ones, from the rollups (section 8). */
const EXACT_UP_TO_MS = 5 * 60_000;
const round1 = (x: number) => Math.round(x * 10) / 10;
const r1 = (x: number | null) => (x === null ? null : round1(x));

/** Nearest rank of ascending values: the value at rank ceil(p/100 · n). */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

type Percentiles = { p50: number | null; p95: number | null; p99: number | null };

async function percentiles(
  store: MonitorStore,
  uid: string,
  from: number,
  to: number,
  exact: boolean,
): Promise<{ latency: Percentiles; ttfc: Percentiles; ttfcCount: number }> {
  const pick = (f: (p: number) => number | null): Percentiles => ({ p50: r1(f(50)), p95: r1(f(95)), p99: r1(f(99)) });
  if (exact) {
    const { latency, ttfc } = await store.latencies({ uid, from, to });
    return {
      latency: pick((p) => nearestRank(latency, p)),
      ttfc: pick((p) => nearestRank(ttfc, p)),
      ttfcCount: ttfc.length,
    };
  }
  const rows = await store.rollups({ uid, from, to });
  const lat = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
  const tt = new Array(TTFC_BOUNDS_MS.length + 1).fill(0);
  for (const r of rows) {
    r.latency.forEach((c, i) => {
      lat[i] += c;
    });
    r.ttfc.forEach((c, i) => {
      tt[i] += c;
    });
  }
  return {
    latency: pick((p) => histogramPercentile(LATENCY_BOUNDS_MS, lat, p)),
    ttfc: pick((p) => histogramPercentile(TTFC_BOUNDS_MS, tt, p)),
    ttfcCount: tt.reduce((a: number, b: number) => a + b, 0),
  };
}

/** The figures of section 8 for one endpoint record over `window` ending at `now`. */
export async function endpointStats(
  store: MonitorStore,
  a: { endpoint: string; uid: string; window: string; lastRequestAt: string | null; now: number },
): Promise<EndpointStats> {
  const to = a.now;
  const from = to - windowMs(a.window);
  const exact = to - from <= EXACT_UP_TO_MS;
  const [agg, pct] = await Promise.all([
    store.aggregate({ uid: a.uid, from, to }),
    percentiles(store, a.uid, from, to, exact),
  ]);
  return {
    endpoint: a.endpoint,
    uid: a.uid,
    window: a.window,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    count: agg.count,
    errors: agg.errors,
    aborted: agg.aborted,
    errorRate: agg.count === 0 ? null : agg.errors / agg.count,
    errorsByCode: agg.errorsByCode,
    latencyMs: { ...pct.latency, mean: r1(agg.latencyMean), max: r1(agg.latencyMax) },
    ttfcMs: pct.ttfcCount === 0 ? null : pct.ttfc,
    tokens: {
      prompt: agg.promptTokens,
      completion: agg.completionTokens,
      total: agg.totalTokens,
      estimated: agg.tokensEstimated,
    },
    streamed: agg.streamed,
    lastRequestAt: a.lastRequestAt,
  };
}

export type SeriesPoint = {
  t: string;
  count: number;
  errors: number;
  aborted: number;
  p50Ms: number | null;
  p95Ms: number | null;
  tokensIn: number;
  tokensOut: number;
};

/** Parse `step` ('15s', '1m'…) or default it: window/60 rounded up to whole seconds, at most 1,000 points. */
export function seriesStepMs(window: number, step: string | undefined): number {
  if (step === undefined) return Math.max(1000, Math.ceil(window / 60 / 1000) * 1000);
  const m = /^([1-9][0-9]*)(s|m|h)$/.exec(step);
  const ms = m ? Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'] : Number.NaN;
  if (!m || window / ms > 1000) {
    throw new SgError(
      'SG_ERR_MONITOR_QUERY',
      `step must match ^[1-9][0-9]*(s|m|h)$ and give at most 1000 points over the window, got '${step}'`,
      {
        details: { parameter: 'step' },
      },
    );
  }
  return ms;
}

/** `/series`: buckets aligned on multiples of the step since the epoch, empty ones included (section 8). */
export async function endpointSeries(
  store: MonitorStore,
  a: { uid: string; window: string; step?: string; now: number },
): Promise<{ stepMs: number; points: SeriesPoint[] }> {
  const wms = windowMs(a.window);
  const stepMs = seriesStepMs(wms, a.step);
  const to = a.now;
  const from = to - wms;
  const rows = await store.series({ uid: a.uid, from, to, stepMs });
  const byT = new Map(rows.map((r) => [r.t, r]));
  // every point's percentiles follow the rule of the query's window length: exact rows, or the rollups
  const exact = wms <= EXACT_UP_TO_MS;
  const starts: number[] = [];
  for (let t = Math.floor(from / stepMs) * stepMs; t < to; t += stepMs) starts.push(t);
  const pcts = await Promise.all(
    starts.map((t) => {
      const r = byT.get(t);
      if (r === undefined || r.count === r.errors + r.aborted) return undefined;
      return percentiles(store, a.uid, Math.max(t, from), Math.min(t + stepMs, to), exact).then((p) => p.latency);
    }),
  );
  const points: SeriesPoint[] = [];
  for (let i = 0; i < starts.length; i++) {
    const t = starts[i];
    const r = byT.get(t);
    const pct = pcts[i];
    points.push({
      t: new Date(t).toISOString(),
      count: r?.count ?? 0,
      errors: r?.errors ?? 0,
      aborted: r?.aborted ?? 0,
      p50Ms: pct?.p50 ?? null,
      p95Ms: pct?.p95 ?? null,
      tokensIn: r?.tokensIn ?? 0,
      tokensOut: r?.tokensOut ?? 0,
    });
  }
  return { stepMs, points };
}
