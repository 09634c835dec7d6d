import { resolve as resolvePath } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SgError } from '../../errors/index.js';
import type { EndpointRecord } from '../types.js';
import { callTuple } from './row-mapping.js';
import type { SqliteOp, SqliteOps, SqlitePragmas, SqliteRequest, SqliteResponse } from './sqlite-protocol.js';
import type { Aggregate, CallRow, InstanceInfo, MonitorStore, SeriesRow } from './store.js';

/** How long `close()` waits for the worker to end on its own before terminating it. */
const CLOSE_MS = 5_000;

/** The compiled worker file; from the TS sources (vitest) the compiled JS under dist/ (tests run after a build). */
export function sqliteWorkerEntry(): URL {
  const url = new URL('./sqlite-worker.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return url;
  return new URL(url.href.replace(/\/src\/monitoring\/store\//, '/dist/monitoring/store/'));
}

/** The file of a `sqlite:<path>` URL, absolute (relative to the working folder); null for `sqlite::memory:`. */
export function sqlitePath(url: string): string | null {
  const rest = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : '';
  if (rest === '') {
    throw new SgError(
      'SG_ERR_MONITOR_STORE_URL',
      `not a SQLite store URL: '${url}' (sqlite:<path> or sqlite::memory:)`,
      {
        details: { url },
      },
    );
  }
  return rest === ':memory:' ? null : resolvePath(rest);
}

type Waiter = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

const unavailable = (message: string) => new SgError('SG_ERR_MONITOR_STORE_UNAVAILABLE', message);

/** One worker thread and the requests it has not answered yet. */
class WorkerLink {
  private readonly pending = new Map<number, Waiter>();
  private nextId = 1;
  private uncaught: Error | undefined;
  /** why the worker ended, once it has */
  private ended: string | undefined;
  readonly exited: Promise<void>;

  constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (res: SqliteResponse) => this.answer(res));
    worker.on('error', (err) => {
      this.uncaught = err instanceof Error ? err : new Error(String(err));
    });
    this.exited = new Promise((resolve) => {
      worker.once('exit', (code) => {
        this.ended = `the SQLite worker ended (code ${code})${this.uncaught ? `: ${this.uncaught.message}` : ''}`;
        for (const w of this.pending.values()) w.reject(unavailable(this.ended));
        this.pending.clear();
        resolve();
      });
    });
  }

  /** Post one request; resolves with its answer. The worker holds the process open only while requests wait. */
  request<K extends SqliteOp>(op: K, args: SqliteOps[K]['args']): Promise<SqliteOps[K]['result']> {
    const id = this.nextId++;
    if (this.ended !== undefined) return Promise.reject(unavailable(this.ended));
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      try {
        this.worker.postMessage({ id, op, args } as SqliteRequest);
      } catch (err) {
        this.settled(id);
        reject(unavailable(`cannot send to the SQLite worker: ${(err as Error).message}`));
      }
    });
  }

  /** Stop the worker: ask it to close the database and end; terminate it if it has not ended in time. */
  async stop(): Promise<void> {
    if (this.ended !== undefined) return;
    const timer = setTimeout(() => void this.worker.terminate(), CLOSE_MS);
    try {
      await this.request('close', null).catch(() => undefined);
      this.worker.ref();
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private answer(res: SqliteResponse): void {
    const w = this.pending.get(res.id);
    if (w === undefined) return;
    this.settled(res.id);
    if (res.ok) w.resolve(res.value);
    else w.reject(new SgError(res.error.code, res.error.message, { details: res.error.details }));
  }

  private settled(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }
}

/**
 * The SQLite monitoring store (monitoring.md section 7): `sqlite:<path>` or `sqlite::memory:`, run by
 * better-sqlite3 in a dedicated worker thread (section 5) that `sqlite-worker.ts` implements. Each method posts
 * one request and awaits its answer; errors come back as SgErrors. `close()` then `open()` starts a new worker
 * and reopens the file (recreating and migrating it when it is gone).
 */
export class SqliteStore implements MonitorStore {
  readonly displayUrl: string;
  /** absolute file path; null in memory */
  readonly path: string | null;
  private link: WorkerLink | undefined;

  constructor(
    url: string,
    private readonly entry: URL = sqliteWorkerEntry(),
  ) {
    this.path = sqlitePath(url);
    this.displayUrl = url;
  }

  async open(options?: { readOnly?: boolean }): Promise<void> {
    if (this.link !== undefined) return;
    let worker: Worker;
    try {
      worker = new Worker(this.entry, { execArgv: [] });
    } catch (err) {
      throw unavailable(`cannot start the SQLite worker: ${(err as Error).message}`);
    }
    const link = new WorkerLink(worker);
    this.link = link;
    try {
      await link.request('open', { path: this.path, readOnly: options?.readOnly === true });
    } catch (err) {
      if (this.link === link) this.link = undefined;
      await link.stop();
      throw err;
    }
  }

  /** Resolves once the worker has closed the database and ended; later calls reject (until `open()` again). */
  async close(): Promise<void> {
    const link = this.link;
    this.link = undefined;
    await link?.stop();
  }

  /** The connection's pragmas (tests and diagnostics). */
  pragmas(): Promise<SqlitePragmas> {
    return this.call('pragmas', null);
  }

  applyEndpoints(a: SqliteOps['applyEndpoints']['args']): Promise<Map<string, string>> {
    return this.call('applyEndpoints', a);
  }

  setInstanceState(a: SqliteOps['setInstanceState']['args']): Promise<void> {
    return this.call('setInstanceState', a);
  }

  heartbeat(instance: InstanceInfo, now: number): Promise<void> {
    return this.call('heartbeat', { instance, now });
  }

  writeCalls(a: Parameters<MonitorStore['writeCalls']>[0]): Promise<void> {
    return this.call('writeCalls', { ...a, rows: a.rows.map(callTuple) });
  }

  deleteBefore(before: number, limit: number): Promise<number> {
    return this.call('deleteBefore', { before, limit });
  }

  deleteStaleInstances(before: number): Promise<void> {
    return this.call('deleteStaleInstances', { before });
  }

  listEndpoints(a: { graph?: string; all: boolean; now: number }): Promise<EndpointRecord[]> {
    return this.call('listEndpoints', a);
  }

  getEndpoint(a: { graph: string; name: string; uid?: string; now: number }): Promise<EndpointRecord | undefined> {
    return this.call('getEndpoint', a);
  }

  aggregate(a: { uid: string; from: number; to: number }): Promise<Aggregate> {
    return this.call('aggregate', a);
  }

  latencies(a: { uid: string; from: number; to: number }): Promise<{ latency: number[]; ttfc: number[] }> {
    return this.call('latencies', a);
  }

  rollups(a: {
    uid: string;
    from: number;
    to: number;
  }): Promise<Array<{ bucketStart: number; latency: number[]; ttfc: number[] }>> {
    return this.call('rollups', a);
  }

  series(a: { uid: string; from: number; to: number; stepMs: number }): Promise<SeriesRow[]> {
    return this.call('series', a);
  }

  calls(a: { uid: string; limit: number; outcome?: 'ok' | 'error' | 'aborted' }): Promise<CallRow[]> {
    return this.call('calls', a);
  }

  private call<K extends SqliteOp>(op: K, args: SqliteOps[K]['args']): Promise<SqliteOps[K]['result']> {
    const link = this.link;
    if (link === undefined) return Promise.reject(unavailable(`the SQLite store ${this.displayUrl} is not open`));
    return link.request(op, args);
  }
}
