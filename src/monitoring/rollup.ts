import { type CallRow, LATENCY_BOUNDS_MS, ROLLUP_MS, type RollupDelta, TTFC_BOUNDS_MS } from './store/store.js';

/** The index of the histogram bucket holding `v` (upper bounds inclusive, as Prometheus counts); +Inf last. */
export function bucketOf(bounds: readonly number[], v: number): number {
  for (let i = 0; i < bounds.length; i++) if (v <= bounds[i]) return i;
  return bounds.length;
}

/** The rollup counts one write adds (section 5): ok calls per latency bucket, ok streamed calls per first-chunk bucket. */
export function rollupsOf(rows: readonly CallRow[]): RollupDelta[] {
  const out: RollupDelta[] = [];
  /** by endpoint: its buckets (a write spans one or two 10-second buckets) */
  const byUid = new Map<string, RollupDelta[]>();
  // consecutive rows mostly share endpoint and bucket: the last one is tried first, with no key built
  let d: RollupDelta | undefined;
  for (const r of rows) {
    if (r.outcome !== 'ok') continue;
    const bucketStart = Math.floor(r.startedAt / ROLLUP_MS) * ROLLUP_MS;
    if (d === undefined || d.endpointUid !== r.endpointUid || d.bucketStart !== bucketStart) {
      let mine = byUid.get(r.endpointUid);
      if (mine === undefined) byUid.set(r.endpointUid, (mine = []));
      d = mine.find((x) => x.bucketStart === bucketStart);
      if (d === undefined) {
        d = {
          endpointUid: r.endpointUid,
          bucketStart,
          latency: new Array(LATENCY_BOUNDS_MS.length + 1).fill(0),
          ttfc: new Array(TTFC_BOUNDS_MS.length + 1).fill(0),
        };
        mine.push(d);
        out.push(d);
      }
    }
    d.latency[bucketOf(LATENCY_BOUNDS_MS, r.latencyMs)]++;
    if (r.streamed && r.ttfcMs !== null) d.ttfc[bucketOf(TTFC_BOUNDS_MS, r.ttfcMs)]++;
  }
  return out;
}

/**
 * A percentile from histogram counts (section 8): r = ceil(p/100 · n); the bucket where the cumulative count
 * reaches r is interpolated linearly from its lower bound (0 for the first); in +Inf, the largest finite bound.
 */
export function histogramPercentile(bounds: readonly number[], counts: readonly number[], p: number): number | null {
  const n = counts.reduce((a, b) => a + b, 0);
  if (n === 0) return null;
  const r = Math.ceil((p / 100) * n);
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const inBucket = counts[i];
    if (below + inBucket >= r && inBucket > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1];
      const lower = i === 0 ? 0 : bounds[i - 1];
      return lower + ((bounds[i] - lower) * (r - below)) / inBucket;
    }
    below += inBucket;
  }
  return bounds[bounds.length - 1];
}
