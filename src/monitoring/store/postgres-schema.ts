/**
 * The PostgreSQL schema of the monitoring store (monitoring.md section 7.1), as numbered migration scripts applied
 * in order (section 7.2, `postgres-migrate.ts`). The SQLite dialect's columns with PostgreSQL types: `BIGINT` for
 * epoch-millisecond times, `BIGSERIAL` for `sg_calls.id`, `JSONB` for JSON, `DOUBLE PRECISION` for `REAL` and
 * `BOOLEAN` for 0/1 flags. A released script never changes: a schema change is a new script.
 */

export type PostgresMigration = { readonly version: number; readonly name: string; readonly sql: string };

const INITIAL = `
CREATE TABLE sg_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);
CREATE TABLE sg_endpoints (
  uid TEXT PRIMARY KEY, graph TEXT NOT NULL, name TEXT NOT NULL, tag TEXT CHECK (tag = 'latest'),
  step TEXT NOT NULL, kind TEXT NOT NULL, shared_model TEXT, model_class TEXT NOT NULL,
  execution_mechanism TEXT NOT NULL, labels JSONB NOT NULL, inputs JSONB, outputs JSONB, artifact JSONB,
  creation_strategy TEXT NOT NULL, definition_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, first_request_at BIGINT, last_request_at BIGINT);
CREATE UNIQUE INDEX sg_endpoints_latest ON sg_endpoints (graph, name) WHERE tag = 'latest';
CREATE INDEX sg_endpoints_versions ON sg_endpoints (graph, name, created_at);
CREATE TABLE sg_endpoint_instances (
  endpoint_uid TEXT NOT NULL REFERENCES sg_endpoints(uid) ON DELETE CASCADE,
  instance_id TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
  state TEXT NOT NULL, error TEXT, started_at BIGINT NOT NULL, heartbeat_at BIGINT NOT NULL,
  PRIMARY KEY (endpoint_uid, instance_id));
CREATE TABLE sg_calls (
  id BIGSERIAL PRIMARY KEY,
  endpoint_uid TEXT NOT NULL REFERENCES sg_endpoints(uid) ON DELETE CASCADE,
  event_id TEXT NOT NULL, started_at BIGINT NOT NULL, latency_ms DOUBLE PRECISION NOT NULL, queue_ms DOUBLE PRECISION,
  outcome TEXT NOT NULL, error_code TEXT, error_message TEXT,
  streamed BOOLEAN NOT NULL, ttfc_ms DOUBLE PRECISION, chunks INTEGER, batch_size INTEGER NOT NULL DEFAULT 1,
  prompt_tokens INTEGER, completion_tokens INTEGER, total_tokens INTEGER,
  usage_estimated BOOLEAN NOT NULL DEFAULT FALSE, usage JSONB, inputs JSONB, outputs JSONB);
CREATE INDEX sg_calls_endpoint_time ON sg_calls (endpoint_uid, started_at);
CREATE INDEX sg_calls_time ON sg_calls (started_at);
CREATE INDEX sg_calls_errors ON sg_calls (endpoint_uid, started_at) WHERE outcome = 'error';
CREATE TABLE sg_rollups (
  endpoint_uid TEXT NOT NULL REFERENCES sg_endpoints(uid) ON DELETE CASCADE,
  instance_id TEXT NOT NULL, bucket_start BIGINT NOT NULL,
  latency_counts JSONB NOT NULL,
  ttfc_counts JSONB NOT NULL,
  PRIMARY KEY (endpoint_uid, instance_id, bucket_start));
`;

/** Every migration this release knows, in order. */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [{ version: 1, name: 'initial', sql: INITIAL }];

/**
 * The key of the transaction-scoped advisory lock (`pg_advisory_xact_lock`) every migration takes, so that servers
 * opening one database together migrate it once. Fixed for all releases: the int8 of the ASCII bytes `sgmigrat`.
 */
export const MIGRATION_LOCK_KEY = '8315735536437453172';
