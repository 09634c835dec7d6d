import type { Usage } from '../../engine/stream-types.js';
import type { EndpointRecord } from '../types.js';
import type { CallRow, StoredDefinition } from './store.js';

/**
 * One mapping between the store contract's shapes and the columns of `sg_endpoints` and `sg_calls`, shared by the
 * SQLite and PostgreSQL stores. What differs between them is only how their drivers hold JSON, text and booleans:
 * that is the codec each store passes in.
 */
export type ColumnCodec = {
  /** the bound value of a JSON column (null and undefined are SQL NULL) */
  json(v: unknown): unknown;
  /** the bound value of a text column */
  text(s: string | null): string | null;
  /** the bound value of a boolean column */
  flag(b: boolean): number | boolean;
  /** a JSON column as the driver reads it back, as a value */
  readJson(v: unknown): unknown;
  /** a boolean column as the driver reads it back */
  readFlag(v: unknown): boolean;
};

/** The columns of a `sg_endpoints` row; JSON columns as the driver gives them. */
export type EndpointColumns = {
  uid: string;
  graph: string;
  name: string;
  tag: string | null;
  step: string;
  kind: string;
  shared_model: string | null;
  model_class: string;
  execution_mechanism: string;
  labels: unknown;
  inputs: unknown;
  outputs: unknown;
  artifact: unknown;
  creation_strategy: string;
  definition_hash: string;
  created_at: number;
  updated_at: number;
  first_request_at: number | null;
  last_request_at: number | null;
};

/** The columns of a `sg_calls` row; JSON and boolean columns as the driver gives them. */
export type CallColumns = {
  id: number;
  endpoint_uid: string;
  event_id: string;
  started_at: number;
  latency_ms: number;
  queue_ms: number | null;
  outcome: string;
  error_code: string | null;
  error_message: string | null;
  streamed: unknown;
  ttfc_ms: number | null;
  chunks: number | null;
  batch_size: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  usage_estimated: unknown;
  usage: unknown;
  inputs: unknown;
  outputs: unknown;
};

/** The definition columns of `sg_endpoints`, in the order `definitionValues` gives them. */
export const DEFINITION_COLUMNS = [
  'step',
  'kind',
  'shared_model',
  'model_class',
  'execution_mechanism',
  'labels',
  'inputs',
  'outputs',
  'artifact',
  'creation_strategy',
  'definition_hash',
] as const;

/** The columns of `sg_calls` a write binds, in the order `callValues` gives them. */
export const CALL_COLUMNS = [
  'endpoint_uid',
  'event_id',
  'started_at',
  'latency_ms',
  'queue_ms',
  'outcome',
  'error_code',
  'error_message',
  'streamed',
  'ttfc_ms',
  'chunks',
  'batch_size',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'usage_estimated',
  'usage',
  'inputs',
  'outputs',
] as const;

/**
 * A call row as its column values in `CALL_COLUMNS` order, JSON and booleans still as values: what the SQLite store
 * posts to its worker thread, where copying a short array costs less than copying an object of 19 keys.
 */
export type CallTuple = unknown[];

/** Index of each `CALL_COLUMNS` column in a `CallTuple`. */
export const CALL_AT = Object.fromEntries(CALL_COLUMNS.map((c, i) => [c, i])) as Record<
  (typeof CALL_COLUMNS)[number],
  number
>;

const AS_IS: ColumnCodec = {
  json: (v) => v ?? null,
  text: (s) => s,
  flag: (b) => b,
  readJson: (v) => v,
  readFlag: (v) => v === true,
};

/** A call row as a `CallTuple`. */
export const callTuple = (c: CallRow): CallTuple => callValues(c, AS_IS);

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The values of a definition's columns, in the order of `DEFINITION_COLUMNS`. */
export function definitionValues(d: StoredDefinition, codec: ColumnCodec): unknown[] {
  return [
    d.step,
    d.kind,
    d.sharedModel ?? null,
    d.modelClass,
    d.executionMechanism,
    codec.json(d.labels ?? {}),
    codec.json(d.inputs),
    codec.json(d.outputs),
    codec.json(d.artifact),
    d.creationStrategy,
    d.definitionHash,
  ];
}

/** The values of a call row, in the order of `CALL_COLUMNS`. */
export function callValues(c: CallRow, codec: ColumnCodec): unknown[] {
  return [
    c.endpointUid,
    codec.text(c.eventId),
    c.startedAt,
    c.latencyMs,
    c.queueMs ?? null,
    c.outcome,
    codec.text(c.errorCode ?? null),
    codec.text(c.errorMessage ?? null),
    codec.flag(c.streamed),
    c.ttfcMs ?? null,
    c.chunks ?? null,
    c.batchSize ?? 1,
    c.promptTokens ?? null,
    c.completionTokens ?? null,
    c.totalTokens ?? null,
    codec.flag(c.usageEstimated),
    codec.json(c.usage),
    codec.json(c.inputs),
    codec.json(c.outputs),
  ];
}

/** An `EndpointRecord` (exactly the fields of monitoring.md section 1) from its row and its derived state. */
export function endpointRecordOf(
  r: EndpointColumns,
  derived: Pick<EndpointRecord, 'state' | 'error' | 'instances'>,
  codec: ColumnCodec,
): EndpointRecord {
  return {
    uid: r.uid,
    graph: r.graph,
    name: r.name,
    step: r.step,
    kind: r.kind as EndpointRecord['kind'],
    sharedModel: r.shared_model,
    modelClass: r.model_class,
    executionMechanism: r.execution_mechanism,
    labels: (codec.readJson(r.labels) ?? {}) as Record<string, string>,
    inputs: codec.readJson(r.inputs) as string[] | null,
    outputs: codec.readJson(r.outputs) as string[] | null,
    artifact: codec.readJson(r.artifact) as EndpointRecord['artifact'],
    creationStrategy: r.creation_strategy as EndpointRecord['creationStrategy'],
    tag: r.tag === 'latest' ? 'latest' : null,
    definitionHash: r.definition_hash,
    state: derived.state,
    error: derived.error,
    instances: derived.instances,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    firstRequestAt: iso(r.first_request_at),
    lastRequestAt: iso(r.last_request_at),
  };
}

/** A `CallRow` from its `sg_calls` row. */
export function callRowOf(r: CallColumns, codec: ColumnCodec): CallRow {
  return {
    endpointUid: r.endpoint_uid,
    eventId: r.event_id,
    startedAt: r.started_at,
    latencyMs: r.latency_ms,
    queueMs: r.queue_ms,
    outcome: r.outcome as CallRow['outcome'],
    errorCode: r.error_code,
    errorMessage: r.error_message,
    streamed: codec.readFlag(r.streamed),
    ttfcMs: r.ttfc_ms,
    chunks: r.chunks,
    batchSize: r.batch_size,
    promptTokens: r.prompt_tokens,
    completionTokens: r.completion_tokens,
    totalTokens: r.total_tokens,
    usageEstimated: codec.readFlag(r.usage_estimated),
    usage: codec.readJson(r.usage) as Usage | null,
    inputs: codec.readJson(r.inputs),
    outputs: codec.readJson(r.outputs),
  };
}

/** Element-wise sum of two count arrays (the longer one's length): rollup histograms merged. */
export function addCounts(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(Math.max(a.length, b.length)).fill(0);
  for (let i = 0; i < out.length; i++) out[i] = (a[i] ?? 0) + (b[i] ?? 0);
  return out;
}
