import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SgError } from '../../src/errors/index.js';
import { migrate, schemaVersion } from '../../src/monitoring/store/sqlite-migrate.js';
import { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION } from '../../src/monitoring/store/sqlite-schema.js';
import { SqliteStore } from '../../src/monitoring/store/sqlite-store.js';
import { def, opened, register, store, T0, tmpDir } from './sqlite-fixtures.js';

/** Read a database file from the test's own connection, read-only. */
function peek<T>(file: string, fn: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

async function rejection(p: Promise<unknown>): Promise<SgError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SgError);
  return err as SgError;
}

describe('SqliteStore: schema, pragmas and migrations (monitoring.md 7.1, 7.2)', () => {
  it('creates the folder and the file, at schema version 1 with the tables and indexes of 7.1', async () => {
    const file = join(tmpDir(), 'nested', 'deeper', 'monitor.db');
    await opened(`sqlite:${file}`);
    expect(existsSync(file)).toBe(true);
    const { tables, indexes, migrations } = peek(file, (db) => ({
      tables: db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'sg_%' ORDER BY name")
        .pluck()
        .all(),
      indexes: db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
        .pluck()
        .all(),
      migrations: db.prepare('SELECT version, name FROM sg_schema_migrations').all(),
    }));
    expect(tables).toEqual(['sg_calls', 'sg_endpoint_instances', 'sg_endpoints', 'sg_rollups', 'sg_schema_migrations']);
    expect(indexes).toEqual([
      'sg_calls_endpoint_time',
      'sg_calls_errors',
      'sg_calls_time',
      'sg_endpoints_latest',
      'sg_endpoints_versions',
    ]);
    expect(migrations).toEqual([{ version: 1, name: 'initial' }]);
    expect(SQLITE_SCHEMA_VERSION).toBe(1);
    const partial = peek(file, (db) =>
      db.prepare("SELECT sql FROM sqlite_master WHERE name = 'sg_endpoints_latest'").pluck().get(),
    );
    expect(partial).toBe("CREATE UNIQUE INDEX sg_endpoints_latest ON sg_endpoints (graph, name) WHERE tag = 'latest'");
  });

  it('sets journal_mode=WAL, synchronous=NORMAL, busy_timeout=5000 and foreign_keys=ON', async () => {
    const dir = tmpDir();
    const s = await opened(`sqlite:${join(dir, 'm.db')}`);
    expect(await s.pragmas()).toEqual({ journalMode: 'wal', synchronous: 1, busyTimeout: 5000, foreignKeys: 1 });
    expect(peek(join(dir, 'm.db'), (db) => db.pragma('journal_mode', { simple: true }))).toBe('wal');
    const m = await opened('sqlite::memory:');
    expect(await m.pragmas()).toEqual({ journalMode: 'memory', synchronous: 1, busyTimeout: 5000, foreignKeys: 1 });
  });

  it('applies the migrations once: a reopen keeps the data and adds no migration row', async () => {
    const file = join(tmpDir(), 'm.db');
    const s = await opened(`sqlite:${file}`);
    const uid = await register(s, def('finance', 'h1'));
    await s.close();
    await s.open();
    expect((await s.getEndpoint({ graph: 'support', name: 'finance', now: T0 }))?.uid).toBe(uid);
    await s.close();
    const again = await opened(`sqlite:${file}`);
    expect(await again.listEndpoints({ all: true, now: T0 })).toHaveLength(1);
    expect(peek(file, (db) => db.prepare('SELECT count(*) FROM sg_schema_migrations').pluck().get())).toBe(1);
  });

  it('refuses a schema newer than it knows (SG_ERR_MONITOR_SCHEMA naming both versions), read-write or read-only', async () => {
    const file = join(tmpDir(), 'm.db');
    const s = await opened(`sqlite:${file}`);
    await s.close();
    const db = new Database(file);
    db.prepare("INSERT INTO sg_schema_migrations VALUES (99, 'future', 0)").run();
    db.close();
    const err = await rejection(store(`sqlite:${file}`).open());
    expect(err.code).toBe('SG_ERR_MONITOR_SCHEMA');
    expect(err.message).toMatch(/99/);
    expect(err.message).toMatch(/version 1\b/);
    expect(err.details).toEqual({ version: 99, known: 1 });
    const ro = await rejection(store(`sqlite:${file}`).open({ readOnly: true }));
    expect(ro.code).toBe('SG_ERR_MONITOR_SCHEMA');
    // nothing was migrated or changed
    expect(peek(file, (d) => d.prepare('SELECT max(version) FROM sg_schema_migrations').pluck().get())).toBe(99);
  });

  it('read-only: a missing file is SG_ERR_MONITOR_STORE_UNAVAILABLE and is not created', async () => {
    const file = join(tmpDir(), 'none', 'm.db');
    const err = await rejection(store(`sqlite:${file}`).open({ readOnly: true }));
    expect(err.code).toBe('SG_ERR_MONITOR_STORE_UNAVAILABLE');
    expect(err.details.reason).toBe('file_missing');
    expect(existsSync(file)).toBe(false);
  });

  it('read-only: never migrates (a file without the schema is SG_ERR_MONITOR_SCHEMA) and refuses writes', async () => {
    const dir = tmpDir();
    writeFileSync(join(dir, 'empty.db'), '');
    const err = await rejection(store(`sqlite:${join(dir, 'empty.db')}`).open({ readOnly: true }));
    expect(err.code).toBe('SG_ERR_MONITOR_SCHEMA');
    expect(peek(join(dir, 'empty.db'), (db) => schemaVersion(db))).toBe(0);

    const w = await opened(`sqlite:${join(dir, 'm.db')}`);
    await register(w, def('finance', 'h1'));
    const r = await opened(`sqlite:${join(dir, 'm.db')}`, { readOnly: true });
    expect((await r.listEndpoints({ graph: 'support', all: false, now: T0 })).map((e) => e.name)).toEqual(['finance']);
    const write = await rejection(r.deleteStaleInstances(T0));
    expect(write.code).toBe('SG_ERR_MONITOR_STORE_UNAVAILABLE');
    expect(write.details.reason).toBe('read_only');
  });

  it('a failing migration script is SG_ERR_MONITOR_SCHEMA and is rolled back whole', () => {
    const db = new Database(':memory:');
    const bad = [
      ...SQLITE_MIGRATIONS,
      { version: 2, name: 'broken', sql: 'CREATE TABLE sg_half (a); CREATE TABLE sg_calls (x);' },
    ];
    let err: unknown;
    try {
      migrate(db, bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SgError);
    expect((err as SgError).code).toBe('SG_ERR_MONITOR_SCHEMA');
    expect((err as SgError).message).toMatch(/migration 2 \(broken\)/);
    expect(schemaVersion(db)).toBe(1);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'sg_half'").pluck().get()).toBe(0);
    expect(migrate(db)).toBe(1);
    db.close();
  });

  it('sqlite::memory: works, one database per store', async () => {
    const a = await opened('sqlite::memory:');
    const b = await opened('sqlite::memory:');
    await register(a, def('finance', 'h1'));
    expect(await a.listEndpoints({ all: false, now: T0 })).toHaveLength(1);
    expect(await b.listEndpoints({ all: false, now: T0 })).toEqual([]);
    expect(a.displayUrl).toBe('sqlite::memory:');
    expect(a.path).toBeNull();
  });

  it('parses its URL: relative paths from the working folder, other URLs SG_ERR_MONITOR_STORE_URL', () => {
    expect(new SqliteStore('sqlite:./data/x.db').path).toBe(resolve('data/x.db'));
    expect(new SqliteStore('sqlite:./data/x.db').displayUrl).toBe('sqlite:./data/x.db');
    for (const url of ['sqlite:', 'postgres://u:p@h/db', './x.db']) {
      expect(() => new SqliteStore(url)).toThrow(expect.objectContaining({ code: 'SG_ERR_MONITOR_STORE_URL' }));
    }
  });

  it('calls before open and after close reject with SG_ERR_MONITOR_STORE_UNAVAILABLE; close is idempotent', async () => {
    const s = store();
    expect((await rejection(s.listEndpoints({ all: true, now: T0 }))).code).toBe('SG_ERR_MONITOR_STORE_UNAVAILABLE');
    await s.open();
    const pending = s.listEndpoints({ all: true, now: T0 });
    await s.close();
    await s.close();
    await expect(pending).resolves.toEqual([]);
    expect((await rejection(s.heartbeat({ id: 'x', host: 'h', pid: 1, startedAt: 0 }, T0))).code).toBe(
      'SG_ERR_MONITOR_STORE_UNAVAILABLE',
    );
  });

  it('a worker that cannot start is SG_ERR_MONITOR_STORE_UNAVAILABLE', async () => {
    const s = new SqliteStore('sqlite::memory:', new URL('./no-such-worker.js', import.meta.url));
    const err = await rejection(s.open());
    expect(err.code).toBe('SG_ERR_MONITOR_STORE_UNAVAILABLE');
    await s.close();
  });

  it('an idle open store does not hold the process open; a pending request does', () => {
    const mod = new URL('../../dist/monitoring/store/sqlite-store.js', import.meta.url).href;
    const script = `
      const { SqliteStore } = await import(${JSON.stringify(mod)});
      const s = new SqliteStore('sqlite::memory:');
      await s.open();
      const list = await s.listEndpoints({ all: true, now: 0 });
      console.log('listed', list.length);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
    expect(String(out).trim()).toBe('listed 0');
  });
});
