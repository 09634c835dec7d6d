import pg from 'pg';
import { SgError } from '../../errors/index.js';
import { SQL } from './postgres-queries.js';
import { POSTGRES_MIGRATIONS, type PostgresMigration } from './postgres-schema.js';

/** The schema version of a database as `client` sees it (its search path): the highest migration applied, 0 when none. */
export async function schemaVersion(client: pg.ClientBase): Promise<number> {
  const t = await client.query<{ present: boolean }>(SQL.migrationsTable);
  if (!t.rows[0].present) return 0;
  const v = await client.query<{ version: number }>(SQL.schemaVersion);
  return Number(v.rows[0].version);
}

/** The highest version a list of migrations reaches. */
export const knownVersion = (migrations: readonly PostgresMigration[]): number =>
  migrations.reduce((m, s) => Math.max(m, s.version), 0);

/** SG_ERR_MONITOR_SCHEMA for a store written by a newer release (monitoring.md section 7.2). */
export function newerSchema(found: number, known: number): SgError {
  return new SgError(
    'SG_ERR_MONITOR_SCHEMA',
    `store schema version ${found} is newer than this release knows (version ${known}); upgrade servegraph`,
    { details: { version: found, known } },
  );
}

/**
 * Whether an error says the server is gone or refuses the session (as opposed to an SQL statement failing):
 * anything but a `DatabaseError`, or one of the classes 08 (connection exception), 53 (insufficient resources),
 * 57P (operator intervention: shutdown, crash, cannot connect now) and 28 (invalid authorization).
 */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof SgError) return false;
  if (!(err instanceof pg.DatabaseError)) return true;
  const code = err.code ?? '';
  return /^(08|53|57P|28)/.test(code);
}

/**
 * Apply the migrations the database lacks, in order (section 7.2): each script in its own transaction that also
 * inserts its `sg_schema_migrations` row, under a transaction-scoped advisory lock with a fixed key, the version
 * read again under the lock so that servers opening the database together migrate it once. A database newer than
 * the highest known version is SG_ERR_MONITOR_SCHEMA, and so is a failing script (a lost connection is left to the
 * caller, as SG_ERR_MONITOR_STORE_UNAVAILABLE). Resolves with the version reached.
 */
export async function migrate(
  client: pg.ClientBase,
  migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS,
  now: () => number = Date.now,
): Promise<number> {
  const known = knownVersion(migrations);
  const current = await schemaVersion(client);
  if (current > known) throw newerSchema(current, known);
  for (const m of migrations) {
    if (m.version <= current) continue;
    try {
      await client.query('BEGIN');
      await client.query(SQL.migrationLock);
      const v = await schemaVersion(client);
      if (v > known) throw newerSchema(v, known);
      if (v < m.version) {
        await client.query(m.sql);
        await client.query(SQL.insertMigration, [m.version, m.name, now()]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (err instanceof SgError || isConnectionError(err)) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new SgError('SG_ERR_MONITOR_SCHEMA', `store migration ${m.version} (${m.name}) failed: ${message}`, {
        details: { version: m.version, name: m.name },
        cause: err,
      });
    }
  }
  return Math.max(known, current);
}
