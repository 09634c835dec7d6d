import type { EndpointRecord } from '../types.js';
import { addCounts, type CallColumns, type EndpointColumns } from './row-mapping.js';
import type { SqliteConnection } from './sqlite-db.js';
import type { SqliteOps } from './sqlite-protocol.js';
import { type InstanceDbRow, toCallRow, toEndpointRecord } from './sqlite-rows.js';
import type { Aggregate, CallRow, SeriesRow } from './store.js';

type Args<K extends keyof SqliteOps> = SqliteOps[K]['args'];
type Result<K extends keyof SqliteOps> = SqliteOps[K]['result'];

/** Endpoint records of a graph (or of all), latest only unless `all`, with state derived at `now` (section 7.3). */
export function listEndpoints(c: SqliteConnection, a: Args<'listEndpoints'>): EndpointRecord[] {
  const q = { graph: a.graph ?? null, all: a.all ? 1 : 0 };
  const rows = c.stmt('listEndpoints').all(q) as EndpointColumns[];
  const byUid = new Map<string, InstanceDbRow[]>();
  for (const i of c.stmt('listInstances').all(q) as InstanceDbRow[]) {
    const list = byUid.get(i.endpoint_uid);
    if (list === undefined) byUid.set(i.endpoint_uid, [i]);
    else list.push(i);
  }
  return rows.map((r) => toEndpointRecord(r, byUid.get(r.uid) ?? [], a.now));
}

/** The latest record of (graph, name), or its record `uid`; undefined when none. */
export function getEndpoint(c: SqliteConnection, a: Args<'getEndpoint'>): EndpointRecord | undefined {
  const row = (
    a.uid === undefined ? c.stmt('getLatest').get(a.graph, a.name) : c.stmt('getByUid').get(a.graph, a.name, a.uid)
  ) as EndpointColumns | undefined;
  if (row === undefined) return undefined;
  return toEndpointRecord(row, c.stmt('endpointInstances').all(row.uid) as InstanceDbRow[], a.now);
}

/** Exact figures of the calls with from ≤ started_at < to (section 8). */
export function aggregate(c: SqliteConnection, a: Args<'aggregate'>): Aggregate {
  const w = { uid: a.uid, from: a.from, to: a.to };
  const r = c.stmt('aggregate').get(w) as Omit<Aggregate, 'errorsByCode' | 'tokensEstimated'> & {
    tokensEstimated: number;
  };
  const errorsByCode: Record<string, number> = {};
  for (const e of c.stmt('errorsByCode').all(w) as Array<{ code: string; n: number }>) errorsByCode[e.code] = e.n;
  return {
    count: r.count,
    errors: r.errors,
    aborted: r.aborted,
    errorsByCode,
    latencyMean: r.latencyMean,
    latencyMax: r.latencyMax,
    promptTokens: r.promptTokens,
    completionTokens: r.completionTokens,
    totalTokens: r.totalTokens,
    tokensEstimated: r.tokensEstimated !== 0,
    streamed: r.streamed,
  };
}

/** Latencies of ok calls and first-chunk times of ok streamed calls, ascending. */
export function latencies(c: SqliteConnection, a: Args<'latencies'>): Result<'latencies'> {
  const w = { uid: a.uid, from: a.from, to: a.to };
  return {
    latency: c.stmt('latencies').pluck().all(w) as number[],
    ttfc: c.stmt('ttfcs').pluck().all(w) as number[],
  };
}

/** Rollup counts summed over instances, per bucket_start in [from, to), ascending. */
export function rollups(c: SqliteConnection, a: Args<'rollups'>): Result<'rollups'> {
  const rows = c.stmt('rollups').all({ uid: a.uid, from: a.from, to: a.to }) as Array<{
    bucket_start: number;
    latency_counts: string;
    ttfc_counts: string;
  }>;
  const out: Result<'rollups'> = [];
  for (const r of rows) {
    const latency = JSON.parse(r.latency_counts) as number[];
    const ttfc = JSON.parse(r.ttfc_counts) as number[];
    const last = out[out.length - 1];
    if (last !== undefined && last.bucketStart === r.bucket_start) {
      last.latency = addCounts(last.latency, latency);
      last.ttfc = addCounts(last.ttfc, ttfc);
    } else out.push({ bucketStart: r.bucket_start, latency, ttfc });
  }
  return out;
}

/** Non-empty step buckets of the calls in [from, to), ascending. */
export function series(c: SqliteConnection, a: Args<'series'>): SeriesRow[] {
  return c.stmt('series').all({ uid: a.uid, from: a.from, to: a.to, step: a.stepMs }) as SeriesRow[];
}

/** Latest call rows, newest first (started_at, then insertion order). */
export function calls(c: SqliteConnection, a: Args<'calls'>): CallRow[] {
  const rows = c.stmt('calls').all({ uid: a.uid, outcome: a.outcome ?? null, limit: a.limit }) as CallColumns[];
  return rows.map(toCallRow);
}
