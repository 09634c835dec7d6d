import { collectDefaultMetrics, Registry } from 'prom-client';
import { SgError } from '../../errors/index.js';
import type { DropReason, LiveGauge, LiveHistogram, LiveMetrics, PoolGauges } from '../types.js';
import { LATENCY_BUCKETS } from './buckets.js';
import { createMetrics, type MetricSet } from './definitions.js';
import { EndpointSeries } from './endpoint-series.js';
import type { GaugeSeries } from './families.js';
import { HttpSeries } from './http-series.js';

export type ServegraphMetricsOptions = {
  /** The graph's name: the `graph` label of every model, pool and step metric. */
  graph: string;
  /** Replaces the bucket bounds (seconds) of `servegraph_model_latency_seconds`. */
  latencyBuckets?: number[];
  /** Told of a fault caught inside a recording method (for a rate-limited log); must not throw. */
  onFault?: (err: unknown) => void;
};

/** What a finished model call reports to the metrics (one per call record; batch members one each). */
export type CallObservation = {
  step: string;
  endpoint: string;
  outcome: 'ok' | 'error' | 'aborted';
  errorCode: string | null;
  latencyMs: number;
  queueMs: number | null;
  mechanism: string;
  streamed: boolean;
  ttfcMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  usageEstimated: boolean;
  batchSize: number;
  /** True for one record of each model call, which observes the batch size. */
  firstOfBatch: boolean;
};

export type EndpointInfo = {
  step: string;
  endpoint: string;
  uid: string;
  kind: string;
  modelClass: string;
  mechanism: string;
  modelUrl: string | null;
};

export type { DropReason };

const DROP_REASONS: readonly DropReason[] = ['buffer_full', 'store_error', 'shutdown', 'internal'];
const CODE_RE = /^SG_ERR_[A-Z0-9_]+$/;

/** A finite, non-negative number, or undefined. */
function amount(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/** A label value as a string. */
function str(v: unknown): string {
  return typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v);
}

/**
 * prom-client's default process metrics, collected once per process and shared by every server's registry: each
 * collection holds a GC observer and an event-loop monitor for the life of the process, so one per server would
 * pile up (a test run starts hundreds of servers).
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** The gauges of one pool, bound once to their labels. */
class PoolSeries implements PoolGauges {
  readonly depth: GaugeSeries;
  readonly busy: GaugeSeries;
  readonly idle: GaugeSeries;

  constructor(m: MetricSet, graph: string, pool: string, mechanism: string) {
    const l = { graph, pool, mechanism };
    this.depth = m.poolQueueDepth.child(l);
    this.busy = m.poolWorkers.child({ ...l, state: 'busy' });
    this.idle = m.poolWorkers.child({ ...l, state: 'idle' });
  }

  set(queueDepth: number, busy: number, idle: number): void {
    this.depth.set(queueDepth);
    this.busy.set(busy);
    this.idle.set(idle);
  }
}

function checkBuckets(b: unknown): number[] {
  const ok =
    Array.isArray(b) &&
    b.length > 0 &&
    b.every((x, i) => typeof x === 'number' && Number.isFinite(x) && x > 0 && (i === 0 || x > b[i - 1]));
  if (!ok) {
    throw new SgError(
      'SG_ERR_INVALID_OPTION',
      'metrics.latencyBuckets must be a non-empty array of finite positive numbers in increasing order',
      { details: { option: 'metrics.latencyBuckets' } },
    );
  }
  return [...(b as number[])];
}

/**
 * The Prometheus metrics of one server (monitoring.md section 9) on a registry of its own, with
 * prom-client's default process metrics. Recording methods are synchronous and never throw; the live
 * series (`LiveMetrics`) are handed out bound, for the engine, the runners and the pools to update.
 */
export class ServegraphMetrics implements LiveMetrics {
  readonly registry: Registry;
  readonly graph: string;
  private readonly m: MetricSet;
  /** By step, then by endpoint. */
  private readonly endpoints = new Map<string, Map<string, EndpointSeries>>();
  private readonly infos = new Map<string, Record<string, string>>();
  private readonly pools = new Map<string, PoolSeries>();
  /** set on every buffered record: a bound series, no label lookup */
  private readonly buffer: GaugeSeries;
  private readonly onFault: ((err: unknown) => void) | undefined;

  constructor(options: ServegraphMetricsOptions) {
    if (options === null || typeof options !== 'object' || typeof options.graph !== 'string') {
      throw new SgError('SG_ERR_INVALID_OPTION', 'ServegraphMetrics: graph must be a string', {
        details: { option: 'graph' },
      });
    }
    const latency = options.latencyBuckets === undefined ? LATENCY_BUCKETS : checkBuckets(options.latencyBuckets);
    this.graph = options.graph;
    this.onFault = options.onFault;
    const own = new Registry();
    this.m = createMetrics(own, latency);
    this.registry = Registry.merge([processMetrics(), own]);
    for (const reason of DROP_REASONS) this.m.droppedRecords.inc({ reason }, 0);
    this.buffer = this.m.bufferRecords.child({});
    this.buffer.set(0);
  }

  /** The content type of `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The metrics in Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Updates the model metrics for one call record. */
  observeCall(r: CallObservation): void {
    try {
      const s = this.series(r.step, r.endpoint);
      const outcome = r.outcome === 'ok' || r.outcome === 'error' ? r.outcome : 'aborted';
      s.requests[outcome].inc();
      if (outcome === 'error') s.error(CODE_RE.test(str(r.errorCode)) ? str(r.errorCode) : 'SG_ERR_INTERNAL').inc();
      const latencyMs = amount(r.latencyMs);
      const streamed = r.streamed === true;
      if (outcome === 'ok' && latencyMs !== undefined) s.latency[streamed ? 'true' : 'false'].observe(latencyMs / 1000);
      const queueMs = amount(r.queueMs);
      if (queueMs !== undefined) s.queue(str(r.mechanism)).observe(queueMs / 1000);
      const ttfcMs = amount(r.ttfcMs);
      const completion = amount(r.completionTokens);
      if (streamed && ttfcMs !== undefined) {
        s.firstChunk.observe(ttfcMs / 1000);
        if (latencyMs !== undefined && completion !== undefined && completion >= 2) {
          const perToken = (latencyMs - ttfcMs) / (completion - 1) / 1000;
          if (perToken >= 0) s.perToken.observe(perToken);
        }
      }
      const estimated = r.usageEstimated === true ? 'true' : 'false';
      const prompt = amount(r.promptTokens);
      if (prompt !== undefined) s.tokens.prompt[estimated].inc(prompt);
      if (completion !== undefined) s.tokens.completion[estimated].inc(completion);
      const batch = amount(r.batchSize);
      if (r.firstOfBatch === true && batch !== undefined) s.batchSize.observe(batch);
    } catch (err) {
      this.fault(err);
    }
  }

  /** A call was dispatched to the endpoint. */
  callStarted(step: string, endpoint: string): void {
    try {
      this.series(step, endpoint).inFlight.inc();
    } catch (err) {
      this.fault(err);
    }
  }

  /** A call of the endpoint finished (whatever its outcome). */
  callEnded(step: string, endpoint: string): void {
    try {
      this.series(step, endpoint).inFlight.dec();
    } catch (err) {
      this.fault(err);
    }
  }

  /** The state of a worker pool: tasks waiting, workers busy and idle. */
  setPool(pool: string, mechanism: string, queueDepth: number, busy: number, idle: number): void {
    try {
      const p = this.poolSeries(str(pool), str(mechanism));
      const depth = amount(queueDepth);
      if (depth !== undefined) p.depth.set(depth);
      const b = amount(busy);
      if (b !== undefined) p.busy.set(b);
      const i = amount(idle);
      if (i !== undefined) p.idle.set(i);
    } catch (err) {
      this.fault(err);
    }
  }

  /** Time a step spent on one event. */
  observeStep(step: string, kind: string, seconds: number): void {
    try {
      const v = amount(seconds);
      if (v !== undefined) this.stepLatency(str(step), str(kind)).observe(v);
    } catch (err) {
      this.fault(err);
    }
  }

  // ---- LiveMetrics: bound series, asked for once (at start-up), updated on the hot path ----

  inFlight(step: string, endpoint: string): LiveGauge {
    return this.series(step, endpoint).inFlight;
  }

  pool(pool: string, mechanism: string): PoolGauges {
    return this.poolSeries(pool, mechanism);
  }

  stepLatency(step: string, kind: string): LiveHistogram {
    return this.m.stepLatency.child({ graph: this.graph, step, kind });
  }

  private poolSeries(pool: string, mechanism: string): PoolSeries {
    const key = `${pool}\u0001${mechanism}`;
    let p = this.pools.get(key);
    if (p === undefined) {
      p = new PoolSeries(this.m, this.graph, pool, mechanism);
      this.pools.set(key, p);
    }
    return p;
  }

  private httpSeries: HttpSeries | undefined;

  /** The HTTP series bound per route and method, for the server's hot path (http-series.ts). */
  get http(): HttpSeries {
    this.httpSeries ??= new HttpSeries(this.m);
    return this.httpSeries;
  }

  /** One finished HTTP request: `route` is the route pattern or `other`. */
  observeHttp(route: string, method: string, status: number | string, seconds: number): void {
    try {
      const l = { route: str(route), method: str(method) };
      this.m.httpRequests.inc({ ...l, status: str(status) });
      const v = amount(seconds);
      if (v !== undefined) this.m.httpDuration.observe(l, v);
    } catch (err) {
      this.fault(err);
    }
  }

  // The in-flight gauge has one source, the open counts of the bound series (http-series.ts) that the server's
  // hot path updates, read when it is scraped; these label forms change the same counts.

  /** An HTTP request (or stream) opened on `route`. */
  httpStarted(route: string): void {
    try {
      this.http.route(str(route)).open++;
    } catch (err) {
      this.fault(err);
    }
  }

  /** An HTTP request (or stream) on `route` closed. */
  httpEnded(route: string): void {
    try {
      this.http.route(str(route)).open--;
    } catch (err) {
      this.fault(err);
    }
  }

  /** `n` call records dropped for `reason`. */
  dropped(reason: DropReason, n = 1): void {
    try {
      const v = amount(n);
      const r = DROP_REASONS.includes(reason) ? reason : 'internal';
      if (v !== undefined) this.m.droppedRecords.inc({ reason: r }, v);
    } catch (err) {
      this.fault(err);
    }
  }

  /** Records waiting to be written. */
  setBuffer(n: number): void {
    try {
      const v = amount(n);
      if (v !== undefined) this.buffer.set(v);
    } catch (err) {
      this.fault(err);
    }
  }

  /** Sets `servegraph_endpoint_info` of an endpoint to 1, replacing its earlier series. */
  endpointInfo(info: EndpointInfo): void {
    try {
      const labels = {
        graph: this.graph,
        step: str(info.step),
        endpoint: str(info.endpoint),
        uid: str(info.uid),
        kind: str(info.kind),
        model_class: str(info.modelClass),
        mechanism: str(info.mechanism),
        model_url: str(info.modelUrl),
      };
      const previous = this.infos.get(labels.endpoint);
      if (previous !== undefined) this.m.endpointInfo.remove(previous);
      this.m.endpointInfo.set(labels, 1);
      this.infos.set(labels.endpoint, labels);
    } catch (err) {
      this.fault(err);
    }
  }

  private series(step: string, endpoint: string): EndpointSeries {
    let byEndpoint = this.endpoints.get(step);
    if (byEndpoint === undefined) {
      byEndpoint = new Map();
      this.endpoints.set(step, byEndpoint);
    }
    let s = byEndpoint.get(endpoint);
    if (s === undefined) {
      s = new EndpointSeries(this.m, this.graph, str(step), str(endpoint));
      byEndpoint.set(endpoint, s);
    }
    return s;
  }

  private fault(err: unknown): void {
    try {
      this.onFault?.(err);
    } catch {
      // a faulty fault handler must not break the caller either
    }
  }
}
