import type { Usage } from '../../engine/stream-types.js';
import type { EndpointRecord } from '../types.js';
import type { CallRow, StoredDefinition } from './store.js';

/** An instance counts as live while its heartbeat is under 90 s old (monitoring.md section 7.3). */
export const LIVE_MS = 90_000;

/** A row of `sg_endpoints`. */
export type EndpointDbRow = {
  uid: string;
  graph: string;
  name: string;
  tag: string | null;
  step: string;
  kind: string;
  shared_model: string | null;
  model_class: string;
  execution_mechanism: string;
  labels: string;
  inputs: string | null;
  outputs: string | null;
  artifact: string | null;
  creation_strategy: string;
  definition_hash: string;
  created_at: number;
  updated_at: number;
  first_request_at: number | null;
  last_request_at: number | null;
};

/** A row of `sg_endpoint_instances`. */
export type InstanceDbRow = {
  endpoint_uid: string;
  instance_id: string;
  host: string;
  pid: number;
  state: string;
  error: string | null;
  started_at: number;
  heartbeat_at: number;
};

/** A row of `sg_calls`. */
export type CallDbRow = {
  id: number;
  endpoint_uid: string;
  event_id: string;
  started_at: number;
  latency_ms: number;
  queue_ms: number | null;
  outcome: string;
  error_code: string | null;
  error_message: string | null;
  streamed: number;
  ttfc_ms: number | null;
  chunks: number | null;
  batch_size: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  usage_estimated: number;
  usage: string | null;
  inputs: string | null;
  outputs: string | null;
};

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
/** JSON text of a value; null and undefined are SQL NULL. */
const jsonOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
const parseOrNull = <T>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));

/** The definition columns of a record, as the insert and update statements bind them. */
export function definitionParams(d: StoredDefinition): Record<string, string | null> {
  return {
    step: d.step,
    kind: d.kind,
    shared_model: d.sharedModel ?? null,
    model_class: d.modelClass,
    execution_mechanism: d.executionMechanism,
    labels: JSON.stringify(d.labels ?? {}),
    inputs: jsonOrNull(d.inputs),
    outputs: jsonOrNull(d.outputs),
    artifact: jsonOrNull(d.artifact),
    creation_strategy: d.creationStrategy,
    definition_hash: d.definitionHash,
  };
}

/**
 * The state of an endpoint from its instance rows at `now` (section 7.3): `serving` if a live instance serves it,
 * else `loading` if one loads it, else `error` (with the error of the most recent such instance), else `stopped`;
 * `instances` counts the live serving ones.
 */
export function deriveState(
  rows: readonly InstanceDbRow[],
  now: number,
): Pick<EndpointRecord, 'state' | 'error' | 'instances'> {
  const live = rows.filter((r) => now - r.heartbeat_at < LIVE_MS);
  const serving = live.filter((r) => r.state === 'serving').length;
  if (serving > 0) return { state: 'serving', error: null, instances: serving };
  if (live.some((r) => r.state === 'loading')) return { state: 'loading', error: null, instances: 0 };
  const failed = live.filter((r) => r.state === 'error').sort((a, b) => b.heartbeat_at - a.heartbeat_at)[0];
  if (failed !== undefined) return { state: 'error', error: failed.error, instances: 0 };
  return { state: 'stopped', error: null, instances: 0 };
}

/** An `EndpointRecord` (exactly the fields of section 1) from its row and its instance rows. */
export function toEndpointRecord(r: EndpointDbRow, instances: readonly InstanceDbRow[], now: number): EndpointRecord {
  const { state, error, instances: n } = deriveState(instances, now);
  return {
    uid: r.uid,
    graph: r.graph,
    name: r.name,
    step: r.step,
    kind: r.kind as EndpointRecord['kind'],
    sharedModel: r.shared_model,
    modelClass: r.model_class,
    executionMechanism: r.execution_mechanism,
    labels: JSON.parse(r.labels) as Record<string, string>,
    inputs: parseOrNull<string[]>(r.inputs),
    outputs: parseOrNull<string[]>(r.outputs),
    artifact: parseOrNull<NonNullable<EndpointRecord['artifact']>>(r.artifact),
    creationStrategy: r.creation_strategy as EndpointRecord['creationStrategy'],
    tag: r.tag === 'latest' ? 'latest' : null,
    definitionHash: r.definition_hash,
    state,
    error,
    instances: n,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    firstRequestAt: iso(r.first_request_at),
    lastRequestAt: iso(r.last_request_at),
  };
}

/** The values of a call row in the column order of `SQL.insertCall` (JSON as text, booleans as 0/1). */
export function callParams(c: CallRow): unknown[] {
  return [
    c.endpointUid,
    c.eventId,
    c.startedAt,
    c.latencyMs,
    c.queueMs ?? null,
    c.outcome,
    c.errorCode ?? null,
    c.errorMessage ?? null,
    c.streamed ? 1 : 0,
    c.ttfcMs ?? null,
    c.chunks ?? null,
    c.batchSize ?? 1,
    c.promptTokens ?? null,
    c.completionTokens ?? null,
    c.totalTokens ?? null,
    c.usageEstimated ? 1 : 0,
    jsonOrNull(c.usage),
    jsonOrNull(c.inputs),
    jsonOrNull(c.outputs),
  ];
}

/** A `CallRow` from its `sg_calls` row (JSON parsed, flags as booleans). */
export function toCallRow(r: CallDbRow): CallRow {
  return {
    endpointUid: r.endpoint_uid,
    eventId: r.event_id,
    startedAt: r.started_at,
    latencyMs: r.latency_ms,
    queueMs: r.queue_ms,
    outcome: r.outcome as CallRow['outcome'],
    errorCode: r.error_code,
    errorMessage: r.error_message,
    streamed: r.streamed !== 0,
    ttfcMs: r.ttfc_ms,
    chunks: r.chunks,
    batchSize: r.batch_size,
    promptTokens: r.prompt_tokens,
    completionTokens: r.completion_tokens,
    totalTokens: r.total_tokens,
    usageEstimated: r.usage_estimated !== 0,
    usage: parseOrNull<Usage>(r.usage),
    inputs: parseOrNull<unknown>(r.inputs),
    outputs: parseOrNull<unknown>(r.outputs),
  };
}

/** Element-wise sum of two count arrays (the longer one's length). */
export function addCounts(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(Math.max(a.length, b.length)).fill(0);
  for (let i = 0; i < out.length; i++) out[i] = (a[i] ?? 0) + (b[i] ?? 0);
  return out;
}
