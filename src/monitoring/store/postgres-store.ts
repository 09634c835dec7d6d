import pg from 'pg';
import { SgError } from '../../errors/index.js';
import { isConnectionError, knownVersion, migrate, newerSchema, schemaVersion } from './postgres-migrate.js';
import { SQL } from './postgres-queries.js';
import { type EndpointPgRow, PG_TYPES, toCallRow, toEndpointRecord } from './postgres-rows.js';
import { POSTGRES_MIGRATIONS, type PostgresMigration } from './postgres-schema.js';
import { applyDefinitions, upsertInstances, writeBatch } from './postgres-writes.js';
import { addCounts, type CallColumns } from './row-mapping.js';
import type {
  Aggregate,
  CallRow,
  InstanceInfo,
  MonitorStore,
  RollupDelta,
  SeriesRow,
  StoredDefinition,
} from './store.js';
import { displayUrl } from './store-url.js';

/** Connections of one store at most (monitoring.md section 5). */
const POOL_MAX = 4;

export type PostgresStoreOptions = {
  /** the migrations to apply (tests); default this release's */
  migrations?: readonly PostgresMigration[];
  /** how long to wait for a connection before the store counts as unavailable; default 10 s */
  connectTimeoutMs?: number;
};

const EMPTY_AGGREGATE: Aggregate = {
  count: 0,
  errors: 0,
  aborted: 0,
  errorsByCode: {},
  latencyMean: null,
  latencyMax: null,
  promptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
  tokensEstimated: false,
  streamed: 0,
};

/** The text of an error, for messages (an AggregateError of refused addresses has an empty message). */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.message !== '') return err.message;
  const inner = (err as { errors?: unknown[] }).errors?.[0];
  if (inner instanceof Error && inner.message !== '') return inner.message;
  return String((err as { code?: unknown }).code ?? err.name);
}

/**
 * The PostgreSQL monitoring store (monitoring.md section 7): a `pg` pool of at most 4 connections, every method
 * asynchronous, shared by several servers. Migrations run under an advisory lock (section 7.2), creation strategies
 * under a per-graph advisory lock (section 2), and each instance adds to its own rollup rows (section 5), so that
 * servers sharing the database do not step on each other. A server that cannot be reached, or a statement that
 * fails, is SG_ERR_MONITOR_STORE_UNAVAILABLE naming the URL with its password masked; the pool reconnects by
 * itself once the server is back.
 */
export class PostgresStore implements MonitorStore {
  readonly displayUrl: string;
  private pool: pg.Pool | undefined;
  private opening: Promise<void> | undefined;
  /** opened read-only on a database without the schema: every query answers empty */
  private empty = false;
  private readonly migrations: readonly PostgresMigration[];
  private readonly connectTimeoutMs: number;

  constructor(
    private readonly url: string,
    options: PostgresStoreOptions = {},
  ) {
    this.displayUrl = displayUrl(url);
    this.migrations = options.migrations ?? POSTGRES_MIGRATIONS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  }

  async open(options: { readOnly?: boolean } = {}): Promise<void> {
    if (this.pool !== undefined) return;
    // a second call while the first is under way waits for it, rather than making a second pool
    this.opening ??= this.connect(options.readOnly === true).finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async connect(readOnly: boolean): Promise<void> {
    const pool = new pg.Pool({
      connectionString: this.url,
      max: POOL_MAX,
      types: PG_TYPES,
      connectionTimeoutMillis: this.connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      application_name: 'servegraph',
    });
    // an idle client that loses its server is dropped by the pool; without listeners its error would crash the process
    pool.on('error', () => undefined);
    pool.on('connect', (client) => {
      client.on('error', () => undefined);
      if (readOnly) client.query(SQL.readOnly).catch(() => undefined);
    });
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw this.unavailable(err);
    }
    try {
      if (readOnly) {
        const version = await schemaVersion(client);
        const known = knownVersion(this.migrations);
        if (version > known) throw newerSchema(version, known);
        this.empty = version === 0;
      } else {
        await migrate(client, this.migrations);
        this.empty = false;
      }
      client.release();
    } catch (err) {
      client.release(true);
      await pool.end().catch(() => undefined);
      throw err instanceof SgError ? err : this.unavailable(err);
    }
    this.pool = pool;
  }

  async applyEndpoints(a: {
    graph: string;
    defs: readonly StoredDefinition[];
    instance: InstanceInfo;
    state: 'loading' | 'serving';
    now: number;
  }): Promise<Map<string, string>> {
    return this.tx((c) => applyDefinitions(c, a));
  }

  async setInstanceState(a: {
    uids: readonly string[];
    instance: InstanceInfo;
    state: 'loading' | 'serving' | 'error' | 'stopped';
    error: string | null;
    now: number;
  }): Promise<void> {
    if (a.uids.length === 0) return;
    const pool = this.requirePool();
    await upsertInstances(pool, a).catch((err) => {
      throw this.unavailable(err);
    });
  }

  async heartbeat(instance: InstanceInfo, now: number): Promise<void> {
    await this.run(SQL.heartbeat, [instance.id, now]);
  }

  async writeCalls(a: {
    rows: readonly CallRow[];
    rollups: readonly RollupDelta[];
    instance: InstanceInfo;
    now: number;
  }): Promise<void> {
    await this.tx((c) => writeBatch(c, a));
  }

  async deleteBefore(before: number, limit: number): Promise<number> {
    const calls = await this.run(SQL.deleteOldCalls, [before, limit]);
    const rollups = await this.run(SQL.deleteOldRollups, [before, limit]);
    return calls + rollups;
  }

  async deleteStaleInstances(before: number): Promise<void> {
    await this.run(SQL.deleteStaleInstances, [before]);
  }

  async listEndpoints(a: { graph?: string; all: boolean; now: number }) {
    if (this.schemaMissing()) return [];
    const rows = await this.query<EndpointPgRow>(SQL.listEndpoints, [a.now, a.graph ?? null, a.all]);
    return rows.map(toEndpointRecord);
  }

  async getEndpoint(a: { graph: string; name: string; uid?: string; now: number }) {
    if (this.schemaMissing()) return undefined;
    const rows = await this.query<EndpointPgRow>(SQL.getEndpoint, [a.now, a.graph, a.name, a.uid ?? null]);
    return rows.length === 0 ? undefined : toEndpointRecord(rows[0]);
  }

  async aggregate(a: { uid: string; from: number; to: number }): Promise<Aggregate> {
    if (this.schemaMissing()) return { ...EMPTY_AGGREGATE, errorsByCode: {} };
    const [r] = await this.query<{
      count: number;
      errors: number;
      aborted: number;
      latency_mean: number | null;
      latency_max: number | null;
      prompt_tokens: number;
      completion_tokens: number;
      total_tokens: number;
      tokens_estimated: boolean;
      streamed: number;
      errors_by_code: Record<string, number>;
    }>(SQL.aggregate, [a.uid, a.from, a.to]);
    return {
      count: r.count,
      errors: r.errors,
      aborted: r.aborted,
      errorsByCode: r.errors_by_code,
      latencyMean: r.latency_mean,
      latencyMax: r.latency_max,
      promptTokens: r.prompt_tokens,
      completionTokens: r.completion_tokens,
      totalTokens: r.total_tokens,
      tokensEstimated: r.tokens_estimated,
      streamed: r.streamed,
    };
  }

  async latencies(a: { uid: string; from: number; to: number }): Promise<{ latency: number[]; ttfc: number[] }> {
    if (this.schemaMissing()) return { latency: [], ttfc: [] };
    const [r] = await this.query<{ latency: number[]; ttfc: number[] }>(SQL.latencies, [a.uid, a.from, a.to]);
    return { latency: r.latency, ttfc: r.ttfc };
  }

  async rollups(a: {
    uid: string;
    from: number;
    to: number;
  }): Promise<Array<{ bucketStart: number; latency: number[]; ttfc: number[] }>> {
    if (this.schemaMissing()) return [];
    const rows = await this.query<{ bucket_start: number; latency_counts: number[]; ttfc_counts: number[] }>(
      SQL.rollups,
      [a.uid, a.from, a.to],
    );
    // summed over instances; rows come ordered by bucket
    const out: Array<{ bucketStart: number; latency: number[]; ttfc: number[] }> = [];
    for (const r of rows) {
      const last = out[out.length - 1];
      if (last !== undefined && last.bucketStart === r.bucket_start) {
        last.latency = addCounts(last.latency, r.latency_counts);
        last.ttfc = addCounts(last.ttfc, r.ttfc_counts);
      } else out.push({ bucketStart: r.bucket_start, latency: r.latency_counts, ttfc: r.ttfc_counts });
    }
    return out;
  }

  async series(a: { uid: string; from: number; to: number; stepMs: number }): Promise<SeriesRow[]> {
    if (this.schemaMissing()) return [];
    const step = Math.max(1, Math.round(a.stepMs));
    const rows = await this.query<{
      t: number;
      count: number;
      errors: number;
      aborted: number;
      tokens_in: number;
      tokens_out: number;
    }>(SQL.series, [a.uid, a.from, a.to, step]);
    return rows.map((r) => ({
      t: r.t,
      count: r.count,
      errors: r.errors,
      aborted: r.aborted,
      tokensIn: r.tokens_in,
      tokensOut: r.tokens_out,
    }));
  }

  async calls(a: { uid: string; limit: number; outcome?: 'ok' | 'error' | 'aborted' }): Promise<CallRow[]> {
    if (this.schemaMissing()) return [];
    const rows = await this.query<CallColumns>(SQL.calls, [a.uid, a.outcome ?? null, a.limit]);
    return rows.map(toCallRow);
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) await pool.end();
  }

  private requirePool(): pg.Pool {
    if (this.pool === undefined) {
      throw new SgError('SG_ERR_MONITOR_STORE_UNAVAILABLE', `monitoring store ${this.displayUrl} is not open`, {
        details: { url: this.displayUrl },
      });
    }
    return this.pool;
  }

  /** True when the store was opened read-only on a database without the schema (throws when not open). */
  private schemaMissing(): boolean {
    this.requirePool();
    return this.empty;
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    const pool = this.requirePool();
    try {
      return (await pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /** One statement; the number of rows it changed. */
  private async run(sql: string, params: unknown[]): Promise<number> {
    const pool = this.requirePool();
    try {
      return (await pool.query(sql, params)).rowCount ?? 0;
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /** `fn` in one transaction on one connection; a connection that failed is discarded, not returned to the pool. */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const pool = this.requirePool();
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw this.unavailable(err);
    }
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      client.release();
      return out;
    } catch (err) {
      let broken = isConnectionError(err);
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      client.release(broken);
      throw this.unavailable(err);
    }
  }

  /** SG_ERR_MONITOR_STORE_UNAVAILABLE for a failure of the server or of a statement, naming the masked URL. */
  private unavailable(err: unknown): SgError {
    if (err instanceof SgError) return err;
    const what = isConnectionError(err)
      ? `cannot reach the monitoring store ${this.displayUrl}`
      : `the monitoring store ${this.displayUrl} failed`;
    return new SgError('SG_ERR_MONITOR_STORE_UNAVAILABLE', `${what}: ${errorText(err)}`, {
      details: { url: this.displayUrl },
      cause: err,
    });
  }
}
