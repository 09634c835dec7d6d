import type { EndpointRecord } from '../types.js';
import {
  CALL_AT,
  type CallColumns,
  type CallTuple,
  type ColumnCodec,
  callRowOf,
  DEFINITION_COLUMNS,
  definitionValues,
  type EndpointColumns,
  endpointRecordOf,
} from './row-mapping.js';
import type { CallRow, StoredDefinition } from './store.js';

/** An instance counts as live while its heartbeat is under 90 s old (monitoring.md section 7.3). */
export const LIVE_MS = 90_000;

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

/** How SQLite holds JSON (text) and booleans (0/1). */
export const SQLITE_CODEC: ColumnCodec = {
  json: (v) => (v === null || v === undefined ? null : JSON.stringify(v)),
  text: (s) => s,
  flag: (b) => (b ? 1 : 0),
  readJson: (v) => (typeof v === 'string' ? (JSON.parse(v) as unknown) : null),
  readFlag: (v) => v === 1 || v === true,
};

/** The definition columns of a record, named as the insert and update statements bind them. */
export function definitionParams(d: StoredDefinition): Record<string, unknown> {
  const values = definitionValues(d, SQLITE_CODEC);
  return Object.fromEntries(DEFINITION_COLUMNS.map((c, i) => [c, values[i]]));
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

/** An `EndpointRecord` from its row and its instance rows. */
export function toEndpointRecord(r: EndpointColumns, instances: readonly InstanceDbRow[], now: number): EndpointRecord {
  return endpointRecordOf(r, deriveState(instances, now), SQLITE_CODEC);
}

const JSON_AT = [CALL_AT.usage, CALL_AT.inputs, CALL_AT.outputs];
const FLAG_AT = [CALL_AT.streamed, CALL_AT.usage_estimated];

/** A posted `CallTuple` bound as `SQL.insertCall` wants it (JSON as text, booleans as 0/1), in place. */
export function bindTuple(t: CallTuple): unknown[] {
  for (const i of JSON_AT) t[i] = SQLITE_CODEC.json(t[i]);
  for (const i of FLAG_AT) t[i] = t[i] === true ? 1 : 0;
  return t;
}

/** A `CallRow` from its `sg_calls` row. */
export const toCallRow = (r: CallColumns): CallRow => callRowOf(r, SQLITE_CODEC);
