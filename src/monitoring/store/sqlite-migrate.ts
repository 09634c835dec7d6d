import type Database from 'better-sqlite3';
import { SgError } from '../../errors/index.js';
import { SQL } from './sqlite-queries.js';
import { SQLITE_MIGRATIONS, type SqliteMigration } from './sqlite-schema.js';

/** The schema version of a database: the highest applied migration, 0 when it has none (a new file). */
export function schemaVersion(db: Database.Database): number {
  if (db.prepare(SQL.migrationsTable).get() === undefined) return 0;
  return db.prepare(SQL.schemaVersion).pluck().get() as number;
}

/** SG_ERR_MONITOR_SCHEMA for a store written by a newer release (monitoring.md section 7.2). */
export function newerSchema(found: number, known: number): SgError {
  return new SgError(
    'SG_ERR_MONITOR_SCHEMA',
    `store schema version ${found} is newer than this release knows (version ${known}); upgrade servegraph`,
    { details: { version: found, known } },
  );
}

const BUSY = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_TIMEOUT']);

/**
 * Apply the migrations the database lacks, in order (section 7.2): each script in a `BEGIN IMMEDIATE`
 * transaction that also inserts its `sg_schema_migrations` row, the version read again under the write lock so
 * that processes opening the file together migrate it once. A database newer than the highest known version, or
 * a failing script, is SG_ERR_MONITOR_SCHEMA; a write lock not obtained in time, SG_ERR_MONITOR_STORE_UNAVAILABLE.
 * Returns the version reached.
 */
export function migrate(
  db: Database.Database,
  migrations: readonly SqliteMigration[] = SQLITE_MIGRATIONS,
  now: () => number = Date.now,
): number {
  const known = migrations.reduce((m, s) => Math.max(m, s.version), 0);
  const current = schemaVersion(db);
  if (current > known) throw newerSchema(current, known);
  for (const m of migrations) {
    if (m.version <= current) continue;
    const step = db.transaction(() => {
      const v = schemaVersion(db);
      if (v > known) throw newerSchema(v, known);
      if (v >= m.version) return;
      db.exec(m.sql);
      db.prepare(SQL.insertMigration).run(m.version, m.name, now());
    });
    try {
      step.immediate();
    } catch (err) {
      if (err instanceof SgError) throw err;
      const code = (err as { code?: unknown }).code;
      const message = err instanceof Error ? err.message : String(err);
      if (typeof code === 'string' && BUSY.has(code)) {
        throw new SgError('SG_ERR_MONITOR_STORE_UNAVAILABLE', `cannot lock the store to migrate it: ${message}`, {
          details: { version: m.version, sqliteCode: code },
          cause: err,
        });
      }
      throw new SgError('SG_ERR_MONITOR_SCHEMA', `store migration ${m.version} (${m.name}) failed: ${message}`, {
        details: { version: m.version, name: m.name },
        cause: err,
      });
    }
  }
  return Math.max(known, current);
}
