/** The SQL statements of the SQLite store (monitoring.md sections 2, 5, 6, 7.3 and 8), prepared once by the worker. */

import { CALL_COLUMNS } from './row-mapping.js';

const WINDOW = 'endpoint_uid = @uid AND started_at >= @from AND started_at < @to';

export const SQL = {
  // migrations (section 7.2)
  migrationsTable: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sg_schema_migrations'",
  schemaVersion: 'SELECT coalesce(max(version), 0) FROM sg_schema_migrations',
  insertMigration: 'INSERT INTO sg_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',

  // endpoint records (section 2)
  latestEndpoint: "SELECT uid, definition_hash FROM sg_endpoints WHERE graph = ? AND name = ? AND tag = 'latest'",
  endpointExists: 'SELECT 1 FROM sg_endpoints WHERE uid = ?',
  insertEndpoint:
    'INSERT INTO sg_endpoints (uid, graph, name, tag, step, kind, shared_model, model_class, execution_mechanism, ' +
    'labels, inputs, outputs, artifact, creation_strategy, definition_hash, created_at, updated_at) ' +
    "VALUES (@uid, @graph, @name, 'latest', @step, @kind, @shared_model, @model_class, @execution_mechanism, " +
    '@labels, @inputs, @outputs, @artifact, @creation_strategy, @definition_hash, @now, @now)',
  updateEndpoint:
    'UPDATE sg_endpoints SET step = @step, kind = @kind, shared_model = @shared_model, model_class = @model_class, ' +
    'execution_mechanism = @execution_mechanism, labels = @labels, inputs = @inputs, outputs = @outputs, ' +
    'artifact = @artifact, creation_strategy = @creation_strategy, definition_hash = @definition_hash, ' +
    'updated_at = @now WHERE uid = @uid',
  archiveEndpoint: 'UPDATE sg_endpoints SET tag = NULL, updated_at = ? WHERE uid = ?',
  deleteEndpoint: 'DELETE FROM sg_endpoints WHERE uid = ?',

  // instances (section 7.3); the row is only written while its endpoint record exists
  upsertInstance:
    'INSERT INTO sg_endpoint_instances (endpoint_uid, instance_id, host, pid, state, error, started_at, heartbeat_at) ' +
    'SELECT @uid, @id, @host, @pid, @state, @error, @startedAt, @now ' +
    'WHERE EXISTS (SELECT 1 FROM sg_endpoints WHERE uid = @uid) ' +
    'ON CONFLICT (endpoint_uid, instance_id) DO UPDATE SET host = excluded.host, pid = excluded.pid, ' +
    'state = excluded.state, error = excluded.error, started_at = excluded.started_at, ' +
    'heartbeat_at = excluded.heartbeat_at',
  heartbeat: 'UPDATE sg_endpoint_instances SET heartbeat_at = ? WHERE instance_id = ?',
  deleteStaleInstances: 'DELETE FROM sg_endpoint_instances WHERE heartbeat_at < ?',

  // call rows and rollups (section 5)
  insertCall: `INSERT INTO sg_calls (${CALL_COLUMNS.join(', ')}) VALUES (${CALL_COLUMNS.map(() => '?').join(', ')})`,
  requestTimes:
    'UPDATE sg_endpoints SET first_request_at = min(coalesce(first_request_at, @first), @first), ' +
    'last_request_at = max(coalesce(last_request_at, @last), @last) WHERE uid = @uid',
  getRollup:
    'SELECT latency_counts, ttfc_counts FROM sg_rollups WHERE endpoint_uid = ? AND instance_id = ? AND bucket_start = ?',
  putRollup:
    'INSERT INTO sg_rollups (endpoint_uid, instance_id, bucket_start, latency_counts, ttfc_counts) ' +
    'VALUES (?, ?, ?, ?, ?) ON CONFLICT (endpoint_uid, instance_id, bucket_start) DO UPDATE SET ' +
    'latency_counts = excluded.latency_counts, ttfc_counts = excluded.ttfc_counts',

  // retention (section 6)
  deleteOldCalls:
    'DELETE FROM sg_calls WHERE id IN (SELECT id FROM sg_calls WHERE started_at < ? ORDER BY started_at LIMIT ?)',
  deleteOldRollups:
    'DELETE FROM sg_rollups WHERE rowid IN (SELECT rowid FROM sg_rollups WHERE bucket_start < ? LIMIT ?)',

  // queries (section 8)
  listEndpoints:
    'SELECT * FROM sg_endpoints WHERE (@graph IS NULL OR graph = @graph) AND (@all = 1 OR tag = ' +
    "'latest') ORDER BY graph, name, created_at, uid",
  listInstances:
    'SELECT i.* FROM sg_endpoint_instances i JOIN sg_endpoints e ON e.uid = i.endpoint_uid ' +
    "WHERE (@graph IS NULL OR e.graph = @graph) AND (@all = 1 OR e.tag = 'latest')",
  endpointInstances: 'SELECT * FROM sg_endpoint_instances WHERE endpoint_uid = ?',
  getLatest: "SELECT * FROM sg_endpoints WHERE graph = ? AND name = ? AND tag = 'latest'",
  getByUid: 'SELECT * FROM sg_endpoints WHERE graph = ? AND name = ? AND uid = ?',
  aggregate:
    "SELECT count(*) AS count, total(outcome = 'error') AS errors, total(outcome = 'aborted') AS aborted, " +
    "avg(CASE WHEN outcome = 'ok' THEN latency_ms END) AS latencyMean, " +
    "max(CASE WHEN outcome = 'ok' THEN latency_ms END) AS latencyMax, " +
    'total(prompt_tokens) AS promptTokens, total(completion_tokens) AS completionTokens, ' +
    'total(total_tokens) AS totalTokens, coalesce(max(usage_estimated), 0) AS tokensEstimated, ' +
    `total(streamed) AS streamed FROM sg_calls WHERE ${WINDOW}`,
  errorsByCode:
    "SELECT coalesce(error_code, 'SG_ERR_INTERNAL') AS code, count(*) AS n FROM sg_calls " +
    `WHERE ${WINDOW} AND outcome = 'error' GROUP BY 1`,
  latencies: `SELECT latency_ms FROM sg_calls WHERE ${WINDOW} AND outcome = 'ok' ORDER BY latency_ms`,
  ttfcs:
    `SELECT ttfc_ms FROM sg_calls WHERE ${WINDOW} AND outcome = 'ok' AND streamed = 1 AND ttfc_ms IS NOT NULL ` +
    'ORDER BY ttfc_ms',
  rollups:
    'SELECT bucket_start, latency_counts, ttfc_counts FROM sg_rollups ' +
    'WHERE endpoint_uid = @uid AND bucket_start >= @from AND bucket_start < @to ORDER BY bucket_start',
  series:
    'SELECT CAST(started_at / @step AS INTEGER) * @step AS t, count(*) AS count, ' +
    "total(outcome = 'error') AS errors, total(outcome = 'aborted') AS aborted, " +
    'total(prompt_tokens) AS tokensIn, total(completion_tokens) AS tokensOut ' +
    `FROM sg_calls WHERE ${WINDOW} GROUP BY 1 ORDER BY 1`,
  calls:
    'SELECT * FROM sg_calls WHERE endpoint_uid = @uid AND (@outcome IS NULL OR outcome = @outcome) ' +
    'ORDER BY started_at DESC, id DESC LIMIT @limit',
} as const;

export type SqlName = keyof typeof SQL;
