import pg from 'pg';
import type { EndpointRecord } from '../types.js';
import {
  type CallColumns,
  type ColumnCodec,
  callRowOf,
  callValues,
  definitionValues,
  type EndpointColumns,
  endpointRecordOf,
} from './row-mapping.js';
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
export type EndpointPgRow = EndpointColumns & {
  /** live instances serving, loading, failed; the error of the most recent failed one */
  serving: number;
  loading: number;
  failed: number;
  failed_error: string | null;
};

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

/** How PostgreSQL holds JSON (JSONB, parsed by `pg` on reading), text (no NUL, no lone surrogate) and booleans. */
export const PG_CODEC: ColumnCodec = {
  json: pgJson,
  text: pgText,
  flag: (b) => b,
  readJson: (v) => v ?? null,
  readFlag: (v) => v === true,
};

/** The definition columns of a record, in the order of `SQL.insertEndpoint` / `SQL.updateEndpoint` ($4 to $14). */
export const definitionParams = (d: StoredDefinition): unknown[] => definitionValues(d, PG_CODEC);

/** The values of a call row in the column order of `CALL_COLUMNS`. */
export const callParams = (c: CallRow): unknown[] => callValues(c, PG_CODEC);

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

/** An `EndpointRecord` from its row. */
export const toEndpointRecord = (r: EndpointPgRow): EndpointRecord => endpointRecordOf(r, derived(r), PG_CODEC);

/** A `CallRow` from its `sg_calls` row. */
export const toCallRow = (r: CallColumns): CallRow => callRowOf(r, PG_CODEC);
