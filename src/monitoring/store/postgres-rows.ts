import pg from 'pg';
import type { Usage } from '../../engine/stream-types.js';
import type { EndpointRecord } from '../types.js';
import type { CallRow, StoredDefinition } from './store.js';

/**
 * Rows of the PostgreSQL store to and from the shapes of the `MonitorStore` contract: int8 and numeric results as
 * numbers, times as ISO strings in endpoint records, JSON made safe for JSONB and text.
 */

const INT8_OID = 20;
const NUMERIC_OID = 1700;
const toNumber = (s: string): number => Number(s);

/**
 * The pool's type parsers: `BIGINT` columns (times, counts, sums) and `NUMERIC` results (sums of `BIGINT`) as
 * numbers, everything else as `pg` parses it by default (JSONB parsed, DOUBLE PRECISION as numbers). Per pool, so
 * other users of `pg` in the process keep their parsers.
 */
export const PG_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return toNumber;
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** A row of `sg_endpoints` with the instance figures of the list query (section 7.3). */
export type EndpointPgRow = {
  uid: string;
  graph: string;
  name: string;
  tag: string | null;
  step: string;
  kind: string;
  shared_model: string | null;
  model_class: string;
  execution_mechanism: string;
  labels: Record<string, string>;
  inputs: string[] | null;
  outputs: string[] | null;
  artifact: EndpointRecord['artifact'];
  creation_strategy: string;
  definition_hash: string;
  created_at: number;
  updated_at: number;
  first_request_at: number | null;
  last_request_at: number | null;
  /** live instances serving, loading, failed; the error of the most recent failed one */
  serving: number;
  loading: number;
  failed: number;
  failed_error: string | null;
};

/** A row of `sg_calls`. */
export type CallPgRow = {
  id: number;
  endpoint_uid: string;
  event_id: string;
  started_at: number;
  latency_ms: number;
  queue_ms: number | null;
  outcome: string;
  error_code: string | null;
  error_message: string | null;
  streamed: boolean;
  ttfc_ms: number | null;
  chunks: number | null;
  batch_size: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  usage_estimated: boolean;
  usage: Usage | null;
  inputs: unknown;
  outputs: unknown;
};

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Lone UTF-16 surrogates, which PostgreSQL's JSONB and UTF-8 text cannot hold. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A string PostgreSQL accepts: NUL characters and lone surrogates replaced by U+FFFD. */
export function pgText(s: string): string;
export function pgText(s: string | null): string | null;
export function pgText(s: string | null): string | null {
  if (s === null) return null;
  return s.replace(LONE_SURROGATE, '\uFFFD').replaceAll('\0', '\uFFFD');
}

/** JSON text of a value for a JSONB column (null and undefined are SQL NULL), with strings made acceptable. */
export function pgJson(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const text = JSON.stringify(v);
  if (text === undefined) return null;
  // JSON.stringify escapes NUL as \u0000 and lone surrogates as \udXXX, both of which JSONB rejects
  if (!/\\u(0000|d[89a-f])/i.test(text)) return text;
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'string' ? pgText(x) : x));
}

/** The definition columns of a record, in the order of `SQL.insertEndpoint` / `SQL.updateEndpoint` ($4 to $14). */
export function definitionParams(d: StoredDefinition): unknown[] {
  return [
    d.step,
    d.kind,
    d.sharedModel ?? null,
    d.modelClass,
    d.executionMechanism,
    pgJson(d.labels ?? {}),
    pgJson(d.inputs),
    pgJson(d.outputs),
    pgJson(d.artifact),
    d.creationStrategy,
    d.definitionHash,
  ];
}

/** The values of a call row in the column order of `CALL_COLUMNS`. */
export function callParams(c: CallRow): unknown[] {
  return [
    c.endpointUid,
    pgText(c.eventId),
    c.startedAt,
    c.latencyMs,
    c.queueMs ?? null,
    c.outcome,
    pgText(c.errorCode ?? null),
    pgText(c.errorMessage ?? null),
    c.streamed,
    c.ttfcMs ?? null,
    c.chunks ?? null,
    c.batchSize ?? 1,
    c.promptTokens ?? null,
    c.completionTokens ?? null,
    c.totalTokens ?? null,
    c.usageEstimated,
    pgJson(c.usage),
    pgJson(c.inputs),
    pgJson(c.outputs),
  ];
}

/**
 * State, error and instance count from the live instances of an endpoint (section 7.3): `serving` if one serves
 * it, else `loading` if one loads it, else `error` (the most recent failed instance's error), else `stopped`.
 */
function derived(r: EndpointPgRow): Pick<EndpointRecord, 'state' | 'error' | 'instances'> {
  if (r.serving > 0) return { state: 'serving', error: null, instances: r.serving };
  if (r.loading > 0) return { state: 'loading', error: null, instances: 0 };
  if (r.failed > 0) return { state: 'error', error: r.failed_error, instances: 0 };
  return { state: 'stopped', error: null, instances: 0 };
}

/** An `EndpointRecord` (exactly the fields of section 1) from its row. */
export function toEndpointRecord(r: EndpointPgRow): EndpointRecord {
  return {
    uid: r.uid,
    graph: r.graph,
    name: r.name,
    step: r.step,
    kind: r.kind as EndpointRecord['kind'],
    sharedModel: r.shared_model,
    modelClass: r.model_class,
    executionMechanism: r.execution_mechanism,
    labels: r.labels,
    inputs: r.inputs,
    outputs: r.outputs,
    artifact: r.artifact,
    creationStrategy: r.creation_strategy as EndpointRecord['creationStrategy'],
    tag: r.tag === 'latest' ? 'latest' : null,
    definitionHash: r.definition_hash,
    ...derived(r),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    firstRequestAt: iso(r.first_request_at),
    lastRequestAt: iso(r.last_request_at),
  };
}

/** A `CallRow` from its `sg_calls` row. */
export function toCallRow(r: CallPgRow): CallRow {
  return {
    endpointUid: r.endpoint_uid,
    eventId: r.event_id,
    startedAt: r.started_at,
    latencyMs: r.latency_ms,
    queueMs: r.queue_ms,
    outcome: r.outcome as CallRow['outcome'],
    errorCode: r.error_code,
    errorMessage: r.error_message,
    streamed: r.streamed,
    ttfcMs: r.ttfc_ms,
    chunks: r.chunks,
    batchSize: r.batch_size,
    promptTokens: r.prompt_tokens,
    completionTokens: r.completion_tokens,
    totalTokens: r.total_tokens,
    usageEstimated: r.usage_estimated,
    usage: r.usage,
    inputs: r.inputs,
    outputs: r.outputs,
  };
}
