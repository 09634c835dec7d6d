/** One numbered migration script of the SQLite dialect (monitoring.md section 7.2). */
export type SqliteMigration = { version: number; name: string; sql: string };

/** Schema version 1, verbatim from monitoring.md section 7.1 (SQLite dialect). */
const V1 = `
CREATE TABLE sg_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);
CREATE TABLE sg_endpoints (
  uid TEXT PRIMARY KEY, graph TEXT NOT NULL, name TEXT NOT NULL, tag TEXT CHECK (tag = 'latest'),
  step TEXT NOT NULL, kind TEXT NOT NULL, shared_model TEXT, model_class TEXT NOT NULL,
  execution_mechanism TEXT NOT NULL, labels TEXT NOT NULL, inputs TEXT, outputs TEXT, artifact TEXT,
  creation_strategy TEXT NOT NULL, definition_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, first_request_at INTEGER, last_request_at INTEGER);
CREATE UNIQUE INDEX sg_endpoints_latest ON sg_endpoints (graph, name) WHERE tag = 'latest';
CREATE INDEX sg_endpoints_versions ON sg_endpoints (graph, name, created_at);
CREATE TABLE sg_endpoint_instances (
  endpoint_uid TEXT NOT NULL REFERENCES sg_endpoints(uid) ON DELETE CASCADE,
  instance_id TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
  state TEXT NOT NULL, error TEXT, started_at INTEGER NOT NULL, heartbeat_at INTEGER NOT NULL,
  PRIMARY KEY (endpoint_uid, instance_id));
CREATE TABLE sg_calls (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint_uid TEXT NOT NULL REFERENCES sg_endpoints(uid) ON DELETE CASCADE,
  event_id TEXT NOT NULL, started_at INTEGER NOT NULL, latency_ms REAL NOT NULL, queue_ms REAL,
  outcome TEXT NOT NULL, error_code TEXT, error_message TEXT,
  streamed INTEGER NOT NULL, ttfc_ms REAL, chunks INTEGER, batch_size INTEGER NOT NULL DEFAULT 1,
  prompt_tokens INTEGER, completion_tokens INTEGER, total_tokens INTEGER,
  usage_estimated INTEGER NOT NULL DEFAULT 0, usage TEXT, inputs TEXT, outputs TEXT);
CREATE INDEX sg_calls_endpoint_time ON sg_calls (endpoint_uid, started_at);
CREATE INDEX sg_calls_time ON sg_calls (started_at);
CREATE INDEX sg_calls_errors ON sg_calls (endpoint_uid, started_at) WHERE outcome = 'error';
CREATE TABLE sg_rollups (   -- §8: one row per endpoint, writing instance and 10-second bucket
  endpoint_uid TEXT NOT NULL REFERENCES sg_endpoints(uid) ON DELETE CASCADE,
  instance_id TEXT NOT NULL, bucket_start INTEGER NOT NULL,   -- a multiple of 10000
  latency_counts TEXT NOT NULL,   -- JSON array: ok calls per latency bucket of §9 (+Inf last)
  ttfc_counts TEXT NOT NULL,      -- JSON array: ok streamed calls per first-chunk bucket of §9 (+Inf last)
  PRIMARY KEY (endpoint_uid, instance_id, bucket_start));
`;

/**
 * The SQLite migration scripts, in order (section 7.2). Each runs in a `BEGIN IMMEDIATE` transaction that also
 * inserts its `sg_schema_migrations` row. Append new versions; never edit a released one.
 */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [{ version: 1, name: 'initial', sql: V1 }];

/** The highest schema version this release knows. */
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1].version;
