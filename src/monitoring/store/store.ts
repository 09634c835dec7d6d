import type { Usage } from '../../engine/stream-types.js';
import type { EndpointDefinition, EndpointRecord } from '../types.js';

/**
 * The contract of a monitoring store (monitoring.md section 7): one implementation per backend, each in its own
 * file (`sqlite-store.ts`, `postgres-store.ts`), chosen by URL (`open-store.ts`). Every method is async and runs
 * off the event path; the Monitor (`monitor.ts`) buffers records and calls these from its background writer.
 * Times are epoch milliseconds throughout. Failures are SgErrors: `SG_ERR_MONITOR_SCHEMA` (schema newer than
 * this release, or a failed migration), `SG_ERR_MONITOR_STORE_UNAVAILABLE` (cannot open, reach or write).
 */
export interface MonitorStore {
  /** the store's URL as shown to people: a password replaced by `***` */
  readonly displayUrl: string;

  /**
   * Open (create the SQLite file and its folder), set the pragmas, and apply the migrations this release knows
   * (section 7.2), unless `readOnly` (the CLI: never migrates; a newer schema is SG_ERR_MONITOR_SCHEMA).
   */
  open(options?: { readOnly?: boolean }): Promise<void>;

  /**
   * Section 2 for one graph, in one transaction: for each definition, touch the latest record of (graph, name)
   * when its definitionHash is the same, else apply its creationStrategy; upsert this instance's
   * `sg_endpoint_instances` row in `state` (`loading` at start-up). Resolves with name → uid of the latest records.
   */
  applyEndpoints(a: {
    graph: string;
    defs: readonly StoredDefinition[];
    instance: InstanceInfo;
    state: 'loading' | 'serving';
    now: number;
  }): Promise<Map<string, string>>;

  /** This instance's rows for these endpoint uids: state (and error), heartbeat = now. */
  setInstanceState(a: {
    uids: readonly string[];
    instance: InstanceInfo;
    state: 'loading' | 'serving' | 'error' | 'stopped';
    error: string | null;
    now: number;
  }): Promise<void>;

  /** Heartbeat every row of this instance (every 30 s while serving). */
  heartbeat(instance: InstanceInfo, now: number): Promise<void>;

  /**
   * One write, one transaction (at most 5,000 rows): insert the call rows; raise `first_request_at` /
   * `last_request_at` of their endpoints; add the rollup counts (section 5) of this instance; heartbeat it.
   */
  writeCalls(a: {
    rows: readonly CallRow[];
    rollups: readonly RollupDelta[];
    instance: InstanceInfo;
    now: number;
  }): Promise<void>;

  /** Retention (section 6): delete call rows and rollups older than `before`, at most `limit` rows per table; the number deleted. */
  deleteBefore(before: number, limit: number): Promise<number>;
  /** Delete instance rows whose heartbeat is older than `before`. */
  deleteStaleInstances(before: number): Promise<void>;

  /** Endpoint records of `graph` (every graph when undefined), latest only unless `all`; state and instances derived (section 7.3) at `now`. */
  listEndpoints(a: { graph?: string; all: boolean; now: number }): Promise<EndpointRecord[]>;
  /** The latest record of (graph, name), or the record with `uid` (of that graph and name); undefined when none. */
  getEndpoint(a: { graph: string; name: string; uid?: string; now: number }): Promise<EndpointRecord | undefined>;

  /** Exact aggregates of one endpoint's calls with from ≤ started_at < to (section 8). */
  aggregate(a: { uid: string; from: number; to: number }): Promise<Aggregate>;
  /** Latencies of `ok` calls, and first-chunk times of `ok` streamed calls, ascending (exact percentiles). */
  latencies(a: { uid: string; from: number; to: number }): Promise<{ latency: number[]; ttfc: number[] }>;
  /** Rollup counts summed over instances, per bucket_start in [from, to). */
  rollups(a: {
    uid: string;
    from: number;
    to: number;
  }): Promise<Array<{ bucketStart: number; latency: number[]; ttfc: number[] }>>;
  /** Per-step buckets (t = floor(started_at / stepMs) * stepMs) of calls in [from, to), non-empty ones only. */
  series(a: { uid: string; from: number; to: number; stepMs: number }): Promise<SeriesRow[]>;
  /** Latest call rows, newest first. */
  calls(a: { uid: string; limit: number; outcome?: 'ok' | 'error' | 'aborted' }): Promise<CallRow[]>;

  close(): Promise<void>;
}

/** An endpoint definition with its hash (section 2), as the store keeps it. */
export type StoredDefinition = EndpointDefinition & { definitionHash: string };

/** The serving process (section 7.3). */
export type InstanceInfo = { id: string; host: string; pid: number; startedAt: number };

/** One call row (section 4, the `sg_calls` columns). */
export type CallRow = {
  endpointUid: string;
  eventId: string;
  startedAt: number;
  latencyMs: number;
  queueMs: number | null;
  outcome: 'ok' | 'error' | 'aborted';
  errorCode: string | null;
  errorMessage: string | null;
  streamed: boolean;
  ttfcMs: number | null;
  chunks: number | null;
  batchSize: number;
  promptTokens: number | null;
  completionTokens: number | null;
  totalTokens: number | null;
  usageEstimated: boolean;
  usage: Usage | null;
  /** JSON as kept (already truncated per maxIoBytes), or null */
  inputs: unknown;
  outputs: unknown;
};

/** Counts to add to one rollup row (section 5): per latency and first-chunk bucket of section 9, +Inf last. */
export type RollupDelta = { endpointUid: string; bucketStart: number; latency: number[]; ttfc: number[] };

/** Exact figures of a window (section 8). */
export type Aggregate = {
  count: number;
  errors: number;
  aborted: number;
  errorsByCode: Record<string, number>;
  /** over ok calls; null when none */
  latencyMean: number | null;
  latencyMax: number | null;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  tokensEstimated: boolean;
  streamed: number;
};

/** One series bucket before percentiles (section 8, `/series`). */
export type SeriesRow = {
  t: number;
  count: number;
  errors: number;
  aborted: number;
  tokensIn: number;
  tokensOut: number;
};

/** Latency bucket bounds of the rollups, in ms (section 9's latency buckets); +Inf is the last count. */
export const LATENCY_BOUNDS_MS = [
  0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 120000, 300000,
];
/** First-chunk bucket bounds of the rollups, in ms (section 9); +Inf is the last count. */
export const TTFC_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];
/** Rollup bucket width (section 5). */
export const ROLLUP_MS = 10_000;
