/** The SQL statements of the PostgreSQL store (monitoring.md sections 2, 5, 6, 7.2, 7.3 and 8). */

import { MIGRATION_LOCK_KEY } from './postgres-schema.js';
import { CALL_COLUMNS } from './row-mapping.js';

export const CALL_COLUMN_COUNT = CALL_COLUMNS.length;

/** Call rows per INSERT statement: well under PostgreSQL's 65,535 parameters per statement. */
export const CALLS_PER_INSERT = 1000;

/** A multi-row INSERT of `n` call rows, parameters numbered row by row. */
export function insertCallsSql(n: number): string {
  const rows: string[] = [];
  for (let r = 0; r < n; r++) {
    const base = r * CALL_COLUMN_COUNT;
    rows.push(`(${CALL_COLUMNS.map((_c, i) => `$${base + i + 1}`).join(', ')})`);
  }
  return `INSERT INTO sg_calls (${CALL_COLUMNS.join(', ')}) VALUES ${rows.join(', ')}`;
}

/** Element-wise sum of a stored JSONB count array and the one being inserted (the longer one's length). */
const addCounts = (col: string): string =>
  `coalesce((SELECT jsonb_agg(coalesce(a.n::bigint, 0) + coalesce(b.n::bigint, 0) ORDER BY coalesce(a.i, b.i)) ` +
  `FROM jsonb_array_elements_text(r.${col}) WITH ORDINALITY AS a(n, i) ` +
  `FULL JOIN jsonb_array_elements_text(EXCLUDED.${col}) WITH ORDINALITY AS b(n, i) ON a.i = b.i), '[]'::jsonb)`;

/**
 * The first of the two int4 keys of the advisory lock `applyEndpoints` takes per graph (the second is the graph
 * name's hash), so that servers starting one graph together apply its definitions one after the other. The
 * two-key space does not overlap the one-key space of the migration lock. The int4 of the ASCII bytes `sgep`.
 */
const APPLY_LOCK_CLASS = 1936156016;

/** Live instances: heartbeat under 90 s old at `$1` (section 7.3). */
const LIVE = 'i.heartbeat_at > $1::bigint - 90000';

/** An endpoint row with the figures of its live instances; `$1` is now. */
const ENDPOINT_SELECT =
  "SELECT e.*, count(i.instance_id) FILTER (WHERE i.state = 'serving') AS serving, " +
  "count(i.instance_id) FILTER (WHERE i.state = 'loading') AS loading, " +
  "count(i.instance_id) FILTER (WHERE i.state = 'error') AS failed, " +
  "(array_agg(i.error ORDER BY i.heartbeat_at DESC) FILTER (WHERE i.state = 'error'))[1] AS failed_error " +
  `FROM sg_endpoints e LEFT JOIN sg_endpoint_instances i ON i.endpoint_uid = e.uid AND ${LIVE} `;

/** A call window: `$1` uid, `$2` from (inclusive), `$3` to (exclusive). */
const WINDOW = 'endpoint_uid = $1 AND started_at >= $2 AND started_at < $3';

export const SQL = {
  // migrations (section 7.2)
  migrationLock: `SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`,
  // read from pg_class (MVCC), not with to_regclass: after waiting for the lock, the name cache may still say missing
  migrationsTable:
    'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ' +
    "WHERE c.relname = 'sg_schema_migrations' AND n.nspname = ANY (current_schemas(false))) AS present",
  schemaVersion: 'SELECT coalesce(max(version), 0) AS version FROM sg_schema_migrations',
  insertMigration: 'INSERT INTO sg_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
  readOnly: 'SET default_transaction_read_only = on',

  // endpoint records (section 2)
  applyLock: `SELECT pg_advisory_xact_lock(${APPLY_LOCK_CLASS}, hashtext($1))`,
  latestEndpoint:
    "SELECT uid, definition_hash FROM sg_endpoints WHERE graph = $1 AND name = $2 AND tag = 'latest' FOR UPDATE",
  insertEndpoint:
    'INSERT INTO sg_endpoints (uid, graph, name, step, kind, shared_model, model_class, execution_mechanism, ' +
    'labels, inputs, outputs, artifact, creation_strategy, definition_hash, tag, created_at, updated_at) ' +
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'latest', $15, $15)",
  updateEndpoint:
    'UPDATE sg_endpoints SET step = $4, kind = $5, shared_model = $6, model_class = $7, execution_mechanism = $8, ' +
    'labels = $9, inputs = $10, outputs = $11, artifact = $12, creation_strategy = $13, definition_hash = $14, ' +
    'updated_at = $15 WHERE uid = $1 AND graph = $2 AND name = $3',
  archiveEndpoint: 'UPDATE sg_endpoints SET tag = NULL, updated_at = $2 WHERE uid = $1',
  deleteEndpoint: 'DELETE FROM sg_endpoints WHERE uid = $1',

  // instances (section 7.3): rows are written only for endpoint records that exist
  upsertInstances:
    'INSERT INTO sg_endpoint_instances (endpoint_uid, instance_id, host, pid, state, error, started_at, heartbeat_at) ' +
    'SELECT u.uid, $2, $3, $4, $5, $6, $7, $8 FROM unnest($1::text[]) AS u(uid) ' +
    'WHERE EXISTS (SELECT 1 FROM sg_endpoints e WHERE e.uid = u.uid) ' +
    'ON CONFLICT (endpoint_uid, instance_id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, ' +
    'state = EXCLUDED.state, error = EXCLUDED.error, started_at = EXCLUDED.started_at, ' +
    'heartbeat_at = EXCLUDED.heartbeat_at',
  heartbeat: 'UPDATE sg_endpoint_instances SET heartbeat_at = $2 WHERE instance_id = $1',
  deleteStaleInstances: 'DELETE FROM sg_endpoint_instances WHERE heartbeat_at < $1',

  // one write (section 5): $1 a JSONB array of objects
  lockEndpoints: 'SELECT uid FROM sg_endpoints WHERE uid = ANY($1::text[]) FOR KEY SHARE',
  requestTimes:
    'UPDATE sg_endpoints e SET first_request_at = LEAST(e.first_request_at, x.first), ' +
    'last_request_at = GREATEST(e.last_request_at, x.last) ' +
    'FROM jsonb_to_recordset($1::jsonb) AS x(uid text, first bigint, last bigint) WHERE e.uid = x.uid',
  addRollups:
    'INSERT INTO sg_rollups AS r (endpoint_uid, instance_id, bucket_start, latency_counts, ttfc_counts) ' +
    'SELECT x.uid, $2, x.bucket, x.latency, x.ttfc ' +
    'FROM jsonb_to_recordset($1::jsonb) AS x(uid text, bucket bigint, latency jsonb, ttfc jsonb) ' +
    'ON CONFLICT (endpoint_uid, instance_id, bucket_start) DO UPDATE SET ' +
    `latency_counts = ${addCounts('latency_counts')}, ttfc_counts = ${addCounts('ttfc_counts')}`,

  // retention (section 6)
  deleteOldCalls:
    'DELETE FROM sg_calls WHERE id IN (SELECT id FROM sg_calls WHERE started_at < $1 ORDER BY started_at LIMIT $2)',
  deleteOldRollups:
    'DELETE FROM sg_rollups WHERE (endpoint_uid, instance_id, bucket_start) IN ' +
    '(SELECT endpoint_uid, instance_id, bucket_start FROM sg_rollups WHERE bucket_start < $1 LIMIT $2)',

  // queries (section 8)
  listEndpoints:
    `${ENDPOINT_SELECT}WHERE ($2::text IS NULL OR e.graph = $2) AND ($3::boolean OR e.tag = 'latest') ` +
    'GROUP BY e.uid ORDER BY e.graph, e.name, e.created_at, e.uid',
  getEndpoint:
    `${ENDPOINT_SELECT}WHERE e.graph = $2 AND e.name = $3 ` +
    "AND (($4::text IS NULL AND e.tag = 'latest') OR e.uid = $4) GROUP BY e.uid",
  aggregate:
    "SELECT count(*) AS count, count(*) FILTER (WHERE outcome = 'error') AS errors, " +
    "count(*) FILTER (WHERE outcome = 'aborted') AS aborted, " +
    "avg(latency_ms) FILTER (WHERE outcome = 'ok') AS latency_mean, " +
    "max(latency_ms) FILTER (WHERE outcome = 'ok') AS latency_max, " +
    'coalesce(sum(prompt_tokens), 0) AS prompt_tokens, coalesce(sum(completion_tokens), 0) AS completion_tokens, ' +
    'coalesce(sum(total_tokens), 0) AS total_tokens, coalesce(bool_or(usage_estimated), false) AS tokens_estimated, ' +
    'count(*) FILTER (WHERE streamed) AS streamed, ' +
    "(SELECT coalesce(jsonb_object_agg(c.code, c.n), '{}'::jsonb) FROM " +
    "(SELECT coalesce(error_code, 'SG_ERR_INTERNAL') AS code, count(*) AS n FROM sg_calls " +
    `WHERE ${WINDOW} AND outcome = 'error' GROUP BY 1) AS c) AS errors_by_code ` +
    `FROM sg_calls WHERE ${WINDOW}`,
  latencies:
    "SELECT coalesce(array_agg(latency_ms ORDER BY latency_ms) FILTER (WHERE outcome = 'ok'), '{}') AS latency, " +
    'coalesce(array_agg(ttfc_ms ORDER BY ttfc_ms) ' +
    "FILTER (WHERE outcome = 'ok' AND streamed AND ttfc_ms IS NOT NULL), '{}') AS ttfc " +
    `FROM sg_calls WHERE ${WINDOW}`,
  rollups:
    'SELECT bucket_start, latency_counts, ttfc_counts FROM sg_rollups ' +
    'WHERE endpoint_uid = $1 AND bucket_start >= $2 AND bucket_start < $3 ORDER BY bucket_start',
  series:
    'SELECT (started_at / $4::bigint) * $4::bigint AS t, count(*) AS count, ' +
    "count(*) FILTER (WHERE outcome = 'error') AS errors, count(*) FILTER (WHERE outcome = 'aborted') AS aborted, " +
    'coalesce(sum(prompt_tokens), 0) AS tokens_in, coalesce(sum(completion_tokens), 0) AS tokens_out ' +
    `FROM sg_calls WHERE ${WINDOW} GROUP BY 1 ORDER BY 1`,
  calls:
    'SELECT * FROM sg_calls WHERE endpoint_uid = $1 AND ($2::text IS NULL OR outcome = $2) ' +
    'ORDER BY started_at DESC, id DESC LIMIT $3',
} as const;
