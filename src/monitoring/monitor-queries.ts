import { SgError } from '../errors/index.js';
import { unstoredRecord } from './definition.js';
import { endpointSeries, endpointStats, type SeriesPoint } from './queries.js';
import { windowMs } from './stats.js';
import type { MonitorStore, StoredDefinition } from './store/store.js';
import type { ResolvedTracking } from './tracking.js';
import type { CallRecord, EndpointRecord, EndpointStats } from './types.js';

/**
 * The query object of monitoring (section 8): `server.monitoring` and `app.monitoring`. Every method returns a
 * Promise; failures reject with the SgError the HTTP route would answer. The Monitor extends it.
 */
export class MonitorQueries {
  protected store: MonitorStore | undefined;
  /** the running graph's endpoints, by name */
  protected readonly defs = new Map<string, StoredDefinition>();
  protected readonly live = new Map<string, { state: EndpointRecord['state']; error: string | null }>();
  protected degraded = false;

  constructor(
    readonly graph: string,
    readonly options: ResolvedTracking,
  ) {}

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** the server's start-up (endpoints register then): queries wait for it, failed or not */
  private started: Promise<unknown> = Promise.resolve();

  /** @internal Queries made while the server starts wait until its endpoints are registered. */
  whenStarted(ready: Promise<unknown>): void {
    this.started = ready.then(
      () => undefined,
      () => undefined,
    );
  }

  /** resolves when the first endpoints are registered (before their models load) */
  protected markRegistered: () => void = () => {};
  private readonly registered = new Promise<void>((resolve) => {
    this.markRegistered = resolve;
  });

  /**
   * Queries read their own writes: made while the server starts, they wait until its endpoints are registered (or
   * start-up ends, for a graph without models); records buffered before are written first (the Monitor adds it).
   */
  protected settle(): Promise<void> {
    return Promise.race([this.started, this.registered]).then(() => undefined);
  }

  async listEndpoints(
    o: { window?: string; all?: boolean } = {},
  ): Promise<Array<EndpointRecord & { stats: EndpointStats | null }>> {
    await this.settle();
    const window = o.window ?? '15m';
    windowMs(window);
    if (!this.enabled) {
      return [...this.defs.values()]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((d) => ({ ...this.unstored(d), stats: null }));
    }
    // no endpoint has registered (a graph without models, or before start-up): no store was opened
    if (this.store === undefined && !this.degraded && this.defs.size === 0) return [];
    const store = this.requireStore();
    const now = Date.now();
    const records = await store.listEndpoints({ graph: this.graph, all: o.all === true, now });
    return Promise.all(
      records.map(async (r) => ({
        ...r,
        stats: await endpointStats(store, {
          endpoint: r.name,
          uid: r.uid!,
          window,
          lastRequestAt: r.lastRequestAt,
          now,
        }),
      })),
    );
  }

  async getEndpoint(name: string): Promise<EndpointRecord> {
    await this.settle();
    if (!this.enabled) {
      const d = this.defs.get(name);
      if (d === undefined) throw this.notFound(name);
      return this.unstored(d);
    }
    const r = await this.requireStore().getEndpoint({ graph: this.graph, name, now: Date.now() });
    if (r === undefined) throw this.notFound(name);
    return r;
  }

  async stats(name: string, o: { window?: string; uid?: string } = {}): Promise<EndpointStats> {
    await this.settle();
    const window = o.window ?? '15m';
    windowMs(window);
    const r = await this.storedRecord(name, o.uid);
    return endpointStats(this.requireStore(), {
      endpoint: name,
      uid: r.uid!,
      window,
      lastRequestAt: r.lastRequestAt,
      now: Date.now(),
    });
  }

  async series(
    name: string,
    o: { window?: string; step?: string } = {},
  ): Promise<{ endpoint: string; window: string; step: string; points: SeriesPoint[] }> {
    await this.settle();
    const window = o.window ?? '15m';
    const r = await this.storedRecord(name);
    const s = await endpointSeries(this.requireStore(), { uid: r.uid!, window, step: o.step, now: Date.now() });
    return { endpoint: name, window, step: o.step ?? `${s.stepMs / 1000}s`, points: s.points };
  }

  async calls(name: string, o: { limit?: number; outcome?: 'ok' | 'error' | 'aborted' } = {}): Promise<CallRecord[]> {
    await this.settle();
    const limit = o.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw queryError('limit', 'an integer from 1 to 1000', limit);
    if (o.outcome !== undefined && !['ok', 'error', 'aborted'].includes(o.outcome)) {
      throw queryError('outcome', 'ok, error or aborted', o.outcome);
    }
    const r = await this.storedRecord(name);
    const rows = await this.requireStore().calls({ uid: r.uid!, limit, outcome: o.outcome });
    return rows.map((c) => ({ ...c, startedAt: new Date(c.startedAt).toISOString() }));
  }

  private async storedRecord(name: string, uid?: string): Promise<EndpointRecord> {
    if (uid !== undefined && (typeof uid !== 'string' || !/^[0-9a-f]{32}$/.test(uid))) {
      throw queryError('uid', '32 lowercase hex characters', uid);
    }
    if (!this.enabled) {
      if (!this.defs.has(name)) throw this.notFound(name);
      throw new SgError(
        'SG_ERR_TRACKING_DISABLED',
        `tracking is off for graph '${this.graph}': no call records are kept`,
        {
          endpoint: name,
        },
      );
    }
    const r = await this.requireStore().getEndpoint({ graph: this.graph, name, uid, now: Date.now() });
    if (r === undefined) throw this.notFound(name, uid);
    return r;
  }

  private requireStore(): MonitorStore {
    if (this.store === undefined || this.degraded) {
      throw new SgError(
        'SG_ERR_MONITOR_STORE_UNAVAILABLE',
        `the monitoring store ${this.options.store} is not available (tracking degraded)`,
      );
    }
    return this.store;
  }

  private notFound(name: string, uid?: string): SgError {
    return new SgError(
      'SG_ERR_ENDPOINT_NOT_FOUND',
      uid === undefined
        ? `no model endpoint named '${name}' in graph '${this.graph}'`
        : `endpoint '${name}' of graph '${this.graph}' has no record with uid '${uid}'`,
      { endpoint: name, details: uid === undefined ? {} : { uid } },
    );
  }

  private unstored(d: StoredDefinition): EndpointRecord {
    const live = this.live.get(d.name);
    return unstoredRecord(this.graph, d, live?.state ?? 'stopped', live?.error ?? null);
  }
}

function queryError(parameter: string, expected: string, got: unknown): SgError {
  return new SgError('SG_ERR_MONITOR_QUERY', `${parameter} must be ${expected}, got '${String(got)}'`, {
    details: { parameter },
  });
}
