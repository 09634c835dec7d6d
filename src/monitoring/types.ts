import type { Usage } from '../engine/stream-types.js';

/** A model endpoint record (monitoring.md section 1). */
export type EndpointRecord = {
  uid: string | null;
  graph: string;
  name: string;
  step: string;
  kind: 'model' | 'proxy';
  sharedModel: string | null;
  modelClass: string;
  executionMechanism: string;
  labels: Record<string, string>;
  inputs: string[] | null;
  outputs: string[] | null;
  artifact: { kind: 'llm-prompt' | 'model'; key: string; modelUrl: string | null; path: string | null } | null;
  creationStrategy: 'inplace' | 'overwrite' | 'archive';
  tag: 'latest' | null;
  definitionHash: string;
  state: 'loading' | 'serving' | 'error' | 'stopped';
  error: string | null;
  instances: number;
  createdAt: string | null;
  updatedAt: string | null;
  firstRequestAt: string | null;
  lastRequestAt: string | null;
};

/** One call of one endpoint for one event (monitoring.md section 4). */
export type CallRecord = {
  endpointUid: string;
  eventId: string;
  startedAt: string;
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
  inputs: unknown;
  outputs: unknown;
};

/** The figures of an endpoint over a window (monitoring.md section 8). */
export type EndpointStats = {
  endpoint: string;
  uid: string | null;
  window: string;
  from: string;
  to: string;
  count: number;
  errors: number;
  aborted: number;
  errorRate: number | null;
  errorsByCode: Record<string, number>;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null; mean: number | null; max: number | null };
  ttfcMs: { p50: number | null; p95: number | null; p99: number | null } | null;
  tokens: { prompt: number; completion: number; total: number; estimated: boolean };
  streamed: number;
  lastRequestAt: string | null;
};

/** What the runner reports for each finished call; the sink fills in the rest. */
export type CallReport = {
  endpoint: string;
  eventId: string;
  startedAt: number;
  latencyMs: number;
  queueMs: number | null;
  error: { code: string; message: string } | undefined;
  aborted: boolean;
  batchSize: number;
  /** false for the 2nd and later members of one batched model call (its batch size is observed once) */
  firstOfBatch?: boolean;
  usage: Usage | undefined;
  input: unknown;
  output: unknown;
  /** a streamed call: it produced chunks (its record is written when the stream ends) */
  streamed?: boolean;
  ttfcMs?: number | null;
  chunks?: number | null;
};

/** The endpoint definitions a runner declares when the server starts (`artifactJson`: the artifact's toJSON(), hashed). */
export type EndpointDefinition = { artifactJson?: unknown } & Pick<
  EndpointRecord,
  | 'name'
  | 'step'
  | 'kind'
  | 'sharedModel'
  | 'modelClass'
  | 'executionMechanism'
  | 'labels'
  | 'inputs'
  | 'outputs'
  | 'artifact'
  | 'creationStrategy'
>;

/** A gauge bound to its labels. */
export interface LiveGauge {
  inc(): void;
  dec(): void;
}

/** A histogram bound to its labels; observations in seconds. */
export interface LiveHistogram {
  observe(seconds: number): void;
}

/** The gauges of one worker pool: calls waiting, workers busy and idle. */
export interface PoolGauges {
  set(queueDepth: number, busy: number, idle: number): void;
}

/**
 * The Prometheus series the engine, the runners and the pools update as things happen (monitoring.md section 9),
 * each bound once to its labels so that an update is a few field writes.
 */
export interface LiveMetrics {
  /** `servegraph_model_in_flight` of an endpoint */
  inFlight(step: string, endpoint: string): LiveGauge;
  /** `servegraph_pool_queue_depth` and `servegraph_pool_workers` of a pool (`'<step>/thread_pool'`, …) */
  pool(pool: string, mechanism: string): PoolGauges;
  /** `servegraph_step_latency_seconds` of a step */
  stepLatency(step: string, kind: string): LiveHistogram;
}

/** Where call records go: recording is synchronous, never throws and does no I/O (monitoring.md section 5). */
export interface CallSink {
  /** declare endpoints when their runner starts, before their models load (creation strategies, section 2) */
  registerEndpoints(defs: EndpointDefinition[], state?: 'loading' | 'serving'): void | Promise<void>;
  /** the endpoints' state changed: loaded (`serving`), failed to load (`error`, with the error text), closed (`stopped`) */
  setState(names: string[], state: EndpointRecord['state'], error?: string | null): void;
  record(report: CallReport): void;
  /** the live series to update, when metrics are attached (asked once, when the server starts) */
  liveMetrics?(): LiveMetrics | undefined;
  /** write what is buffered and close the store (when the server closes) */
  close?(): Promise<void>;
}

/** Why call records were dropped (monitoring.md section 5). */
export type DropReason = 'buffer_full' | 'store_error' | 'shutdown' | 'internal';
