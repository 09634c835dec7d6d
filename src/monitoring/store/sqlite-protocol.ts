import type { EndpointRecord } from '../types.js';
import type { CallTuple } from './row-mapping.js';
import type { Aggregate, CallRow, InstanceInfo, MonitorStore, SeriesRow } from './store.js';

type Arg<K extends keyof MonitorStore> = MonitorStore[K] extends (...a: infer P) => unknown ? P[0] : never;

/** The connection's pragmas as SQLite reports them (tests and diagnostics). */
export type SqlitePragmas = { journalMode: string; synchronous: number; busyTimeout: number; foreignKeys: number };

/**
 * The operations the SQLite worker runs (monitoring.md section 5: all SQLite work in one worker thread): for each,
 * what the main thread sends and what the worker answers.
 */
export type SqliteOps = {
  /** `path` null: `sqlite::memory:` */
  open: { args: { path: string | null; readOnly: boolean }; result: undefined };
  close: { args: null; result: undefined };
  pragmas: { args: null; result: SqlitePragmas };
  applyEndpoints: { args: Arg<'applyEndpoints'>; result: Map<string, string> };
  setInstanceState: { args: Arg<'setInstanceState'>; result: undefined };
  heartbeat: { args: { instance: InstanceInfo; now: number }; result: undefined };
  /** call rows posted as tuples (row-mapping.ts `CallTuple`) */
  writeCalls: { args: Omit<Arg<'writeCalls'>, 'rows'> & { rows: CallTuple[] }; result: undefined };
  deleteBefore: { args: { before: number; limit: number }; result: number };
  deleteStaleInstances: { args: { before: number }; result: undefined };
  listEndpoints: { args: Arg<'listEndpoints'>; result: EndpointRecord[] };
  getEndpoint: { args: Arg<'getEndpoint'>; result: EndpointRecord | undefined };
  aggregate: { args: Arg<'aggregate'>; result: Aggregate };
  latencies: { args: Arg<'latencies'>; result: { latency: number[]; ttfc: number[] } };
  rollups: { args: Arg<'rollups'>; result: Array<{ bucketStart: number; latency: number[]; ttfc: number[] }> };
  series: { args: Arg<'series'>; result: SeriesRow[] };
  calls: { args: Arg<'calls'>; result: CallRow[] };
};

export type SqliteOp = keyof SqliteOps;

/** main → worker: one request, answered once by the response with the same id. */
export type SqliteRequest = { [K in SqliteOp]: { id: number; op: K; args: SqliteOps[K]['args'] } }[SqliteOp];

/** An SgError as it crosses the thread boundary; rebuilt as an SgError on the main thread. */
export type WireError = { code: string; message: string; details: Record<string, unknown> };

/** worker → main */
export type SqliteResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };
