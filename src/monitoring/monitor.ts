import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { errorText, SgError } from '../errors/index.js';
import { callRow, sampled } from './call-row.js';
import { withHash } from './definition.js';
import { MonitorQueries } from './monitor-queries.js';
import { rollupsOf } from './rollup.js';
import { openStore } from './store/open-store.js';
import type { InstanceInfo } from './store/store.js';
import type { ResolvedTracking } from './tracking.js';
import type { CallReport, CallSink, DropReason, EndpointDefinition, EndpointRecord, LiveMetrics } from './types.js';
import { RecordWriter } from './writer.js';

/** What monitoring tells Prometheus (the metrics module implements it). */
export interface MetricsSink {
  observeReport(report: CallReport, step: string, mechanism: string): void;
  dropped(reason: DropReason, n: number): void;
  setBuffer(n: number): void;
  text(): Promise<string>;
  /** the series the engine, runners and pools update themselves */
  readonly live?: LiveMetrics;
  /** `servegraph_endpoint_info` of an endpoint (uid null with tracking off), replacing its earlier series */
  endpointInfo?(def: EndpointDefinition, uid: string | null): void;
}

type Logger = { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };

const HEARTBEAT_MS = 30_000;
const RETENTION_EVERY_MS = 3_600_000;
const RETENTION_BATCH = 5000;
const DAY_MS = 86_400_000;
const SHUTDOWN_GRACE_MS = 5000;

/**
 * Model endpoints and their call records (monitoring.md): recording is a synchronous append to a bounded buffer
 * and a metrics update; a background writer puts records in the store; the queries of section 8 read it. Any
 * failure inside is counted and logged, never thrown at an event.
 */
export class Monitor extends MonitorQueries implements CallSink {
  readonly instance: InstanceInfo = {
    id: randomBytes(8).toString('hex'),
    host: hostname(),
    pid: process.pid,
    startedAt: Date.now(),
  };
  private uids = new Map<string, string>();
  private readonly writer: RecordWriter;
  private timers: NodeJS.Timeout[] = [];
  private reopening: NodeJS.Timeout | undefined;
  private lastInternalLog = 0;
  /** call records dropped since this monitor started, by reason (monitoring.md section 5) */
  readonly dropped: Record<DropReason, number> = { buffer_full: 0, store_error: 0, shutdown: 0, internal: 0 };
  private closed = false;

  constructor(
    graph: string,
    options: ResolvedTracking,
    private readonly logger: Logger,
    private readonly makeMetrics?: () => MetricsSink,
  ) {
    super(graph, options);
    this.writer = new RecordWriter(options, {
      write: (batch) => this.write(batch),
      dropped: (n, reason) => this.drop(reason, n),
      failed: (err) => this.storeFailed(err),
      buffered: (n) => this.metrics?.setBuffer(n),
      // a SQLite file deleted or replaced under the server: degraded at once, and reopened (section 5)
      retryable: (err) =>
        !(err instanceof SgError && ['file_missing', 'file_replaced'].includes(String(err.details.reason))),
    });
  }

  private metricsSink: MetricsSink | undefined;

  /** made on first use: when the graph starts, its engine asks for the step series (liveMetrics) */
  private get metrics(): MetricsSink | undefined {
    if (this.metricsSink === undefined && this.makeMetrics !== undefined) this.metricsSink = this.makeMetrics();
    return this.metricsSink;
  }

  /** 'on', 'off' or 'degraded' (the store failed and is being reopened) */
  get trackingState(): 'on' | 'off' | 'degraded' {
    return !this.enabled ? 'off' : this.degraded ? 'degraded' : 'on';
  }

  /** the store URL as shown to people (password hidden), or null with tracking off */
  get storeUrl(): string | null {
    return this.enabled ? (this.store?.displayUrl ?? this.options.store) : null;
  }

  /**
   * Open the store and migrate it (start-up): a bad URL or an unknown schema fails start-up; a store that cannot
   * be reached leaves tracking degraded, reopened every reopenIntervalMs.
   */
  async open(): Promise<void> {
    if (!this.enabled || this.store !== undefined) return;
    const store = openStore(this.options.store);
    try {
      await store.open();
    } catch (err) {
      await store.close().catch(() => {});
      if (err instanceof SgError && err.code === 'SG_ERR_MONITOR_STORE_UNAVAILABLE') {
        this.storeFailed(err);
        return;
      }
      throw err;
    }
    this.store = store;
    this.startTimers();
    void this.retention();
  }

  private startTimers(): void {
    const hb = setInterval(() => void this.heartbeat(), HEARTBEAT_MS);
    const ret = setInterval(() => void this.retention(), RETENTION_EVERY_MS);
    hb.unref();
    ret.unref();
    this.timers.push(hb, ret);
  }

  // ---- CallSink: the runner's side ----

  async registerEndpoints(defs: EndpointDefinition[], state: 'loading' | 'serving' = 'serving'): Promise<void> {
    const stored = defs.map(withHash);
    await this.open();
    for (const d of stored) {
      this.defs.set(d.name, d);
      this.live.set(d.name, { state, error: null });
    }
    if (!this.enabled || this.store === undefined) {
      this.markRegistered();
      this.describeEndpoints(stored);
      return;
    }
    try {
      const uids = await this.store.applyEndpoints({
        graph: this.graph,
        defs: stored,
        instance: this.instance,
        state,
        now: Date.now(),
      });
      for (const [name, uid] of uids) this.uids.set(name, uid);
    } catch (err) {
      if (err instanceof SgError && err.code === 'SG_ERR_MONITOR_SCHEMA') throw err;
      this.storeFailed(err);
    } finally {
      this.markRegistered();
      this.describeEndpoints(stored);
    }
  }

  /** `servegraph_endpoint_info` of these endpoints, with their current uids (section 9). */
  private describeEndpoints(defs: Iterable<EndpointDefinition>): void {
    const metrics = this.metrics;
    if (metrics?.endpointInfo === undefined) return;
    try {
      for (const d of defs) metrics.endpointInfo(d, this.uids.get(d.name) ?? null);
    } catch (err) {
      this.logger.warn({ err: errorText(err) }, 'monitoring could not describe the endpoints to the metrics');
    }
  }

  liveMetrics(): LiveMetrics | undefined {
    return this.metrics?.live;
  }

  setState(names: string[], state: EndpointRecord['state'], error: string | null = null): void {
    for (const n of names) if (this.live.has(n)) this.live.set(n, { state, error: state === 'error' ? error : null });
    const uids = names.map((n) => this.uids.get(n)).filter((u): u is string => u !== undefined);
    if (this.store === undefined || uids.length === 0 || this.degraded) return;
    this.store
      .setInstanceState({ uids, instance: this.instance, state, error, now: Date.now() })
      .catch((err: unknown) => this.storeFailed(err));
  }

  record(report: CallReport): void {
    try {
      const def = this.defs.get(report.endpoint);
      // metrics first: they stay exact when records drop (section 5)
      this.metrics?.observeReport(report, def?.step ?? '', def?.executionMechanism ?? '');
      if (!this.enabled || def === undefined) return;
      // inputs and outputs that will not be kept are let go now, not held in the buffer until the write
      if (!this.options.recordIo || !sampled(report.eventId, this.options.ioSampleRate)) {
        report.input = undefined;
        report.output = undefined;
      }
      this.writer.add(report);
    } catch (err) {
      this.internal(err);
    }
  }

  private async write(batch: CallReport[]): Promise<void> {
    const store = this.store;
    if (store === undefined) throw new SgError('SG_ERR_MONITOR_STORE_UNAVAILABLE', 'the monitoring store is not open');
    const rows = [];
    for (const report of batch) {
      const uid = this.uids.get(report.endpoint);
      if (uid !== undefined) rows.push(callRow(report, uid, this.options));
    }
    if (rows.length === 0) return;
    await store.writeCalls({ rows, rollups: rollupsOf(rows), instance: this.instance, now: Date.now() });
  }

  // ---- failures: degraded, then reopened ----

  private storeFailed(err: unknown): void {
    if (this.closed) return;
    if (!this.degraded) this.logger.error({ err: errorText(err) }, 'monitoring store failed: tracking degraded');
    this.degraded = true;
    this.writer.dropWaiting('store_error');
    this.writer.pause();
    if (this.reopening === undefined) {
      this.reopening = setTimeout(() => void this.reopen(), this.options.reopenIntervalMs);
      this.reopening.unref();
    }
  }

  private async reopen(): Promise<void> {
    this.reopening = undefined;
    if (this.closed) return;
    const old = this.store;
    this.store = undefined;
    await old?.close().catch(() => {});
    const store = openStore(this.options.store);
    try {
      await store.open();
      const defs = [...this.defs.values()];
      if (defs.length > 0) {
        const uids = await store.applyEndpoints({
          graph: this.graph,
          defs,
          instance: this.instance,
          state: 'serving',
          now: Date.now(),
        });
        this.uids = uids;
        this.describeEndpoints(defs);
      }
    } catch (err) {
      await store.close().catch(() => {});
      this.reopening = setTimeout(() => void this.reopen(), this.options.reopenIntervalMs);
      this.reopening.unref();
      void err;
      return;
    }
    if (this.timers.length === 0) this.startTimers();
    this.store = store;
    this.degraded = false;
    this.logger.warn({}, 'monitoring store reopened: tracking on');
    this.writer.resume();
  }

  private async heartbeat(): Promise<void> {
    if (this.store === undefined || this.degraded) return;
    await this.store.heartbeat(this.instance, Date.now()).catch((err: unknown) => this.storeFailed(err));
  }

  private async retention(): Promise<void> {
    const store = this.store;
    if (store === undefined) return;
    try {
      const now = Date.now();
      if (this.options.retentionDays > 0) {
        const before = now - this.options.retentionDays * DAY_MS;
        while ((await store.deleteBefore(before, RETENTION_BATCH)) >= RETENTION_BATCH) {
          if (this.closed) return;
        }
      }
      await store.deleteStaleInstances(now - 7 * DAY_MS);
    } catch (err) {
      this.storeFailed(err);
    }
  }

  /** `n` records dropped for `reason`: counted here (the dashboard's header) and in the metrics. */
  private drop(reason: DropReason, n: number): void {
    this.dropped[reason] += n;
    this.metrics?.dropped(reason, n);
  }

  private internal(err: unknown): void {
    this.drop('internal', 1);
    const now = Date.now();
    if (now - this.lastInternalLog < 60_000) return;
    this.lastInternalLog = now;
    this.logger.error({ err: errorText(err) }, 'monitoring failed to record a call (logged at most once a minute)');
  }

  // ---- the query object (section 8): every method returns a Promise ----

  async flush(): Promise<void> {
    await this.writer.flush();
  }

  protected override async settle(): Promise<void> {
    await super.settle();
    if (this.enabled && !this.degraded && this.writer.size > 0) await this.writer.flush();
  }

  async metricsText(): Promise<string> {
    return this.metrics === undefined ? '' : this.metrics.text();
  }

  /** Shutdown (section 5): write what is buffered within 5 s, mark this instance stopped, close the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.writer.close(SHUTDOWN_GRACE_MS);
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.reopening);
    const store = this.store;
    this.store = undefined;
    if (store === undefined) return;
    const uids = [...this.uids.values()];
    if (uids.length > 0 && !this.degraded) {
      await store
        .setInstanceState({ uids, instance: this.instance, state: 'stopped', error: null, now: Date.now() })
        .catch(() => {});
    }
    await store.close().catch(() => {});
  }
}
