import { createServer } from 'node:net';
import { expect, it } from 'vitest';
import { SgError } from '../../src/errors/index.js';
import type { PostgresMigration } from '../../src/monitoring/store/postgres-schema.js';
import { PostgresStore } from '../../src/monitoring/store/postgres-store.js';
import { def, describePg, PG_URL, register, T0, usePgSchema } from './postgres-fixtures.js';

const db = usePgSchema('sgtest_schema');

async function rejectsWith(p: Promise<unknown>, code: string): Promise<SgError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SgError);
  expect((err as SgError).code).toBe(code);
  return err as SgError;
}

/** A loopback port nobody listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const tables = () =>
  db.sql<{ t: string }>(
    'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1',
  );

describePg('PostgresStore: schema and migrations (monitoring.md section 7.1, 7.2)', () => {
  it('creates schema version 1 with its tables, indexes and column types', async () => {
    await db.opened();
    expect((await tables()).map((r) => r.t)).toEqual([
      'sg_calls',
      'sg_endpoint_instances',
      'sg_endpoints',
      'sg_rollups',
      'sg_schema_migrations',
    ]);
    const migrations = await db.sql('SELECT version, name, applied_at FROM sg_schema_migrations');
    expect(migrations).toHaveLength(1);
    expect(migrations[0]).toMatchObject({ version: 1, name: 'initial' });
    expect(Math.abs(Number(migrations[0].applied_at) - Date.now())).toBeLessThan(60_000);
    const indexes = await db.sql<{ indexname: string; indexdef: string }>(
      'SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1',
    );
    const names = indexes.map((i) => i.indexname);
    for (const n of ['sg_endpoints_latest', 'sg_endpoints_versions', 'sg_calls_endpoint_time', 'sg_calls_time']) {
      expect(names).toContain(n);
    }
    const def = (n: string) => indexes.find((i) => i.indexname === n)?.indexdef ?? '';
    expect(def('sg_endpoints_latest')).toMatch(/CREATE UNIQUE INDEX .* \(graph, name\) WHERE \(tag = 'latest'::text\)/);
    expect(def('sg_calls_errors')).toMatch(/\(endpoint_uid, started_at\) WHERE \(outcome = 'error'::text\)/);
    const types = await db.sql<{ c: string; t: string; d: string | null }>(
      "SELECT table_name || '.' || column_name AS c, data_type AS t, column_default AS d " +
        'FROM information_schema.columns WHERE table_schema = current_schema()',
    );
    const type = (c: string) => types.find((r) => r.c === c)?.t;
    expect(type('sg_calls.id')).toBe('bigint');
    expect(types.find((r) => r.c === 'sg_calls.id')?.d).toMatch(/^nextval/);
    expect(type('sg_calls.started_at')).toBe('bigint');
    expect(type('sg_calls.latency_ms')).toBe('double precision');
    expect(type('sg_calls.streamed')).toBe('boolean');
    expect(type('sg_calls.usage_estimated')).toBe('boolean');
    expect(type('sg_calls.inputs')).toBe('jsonb');
    expect(type('sg_endpoints.labels')).toBe('jsonb');
    expect(type('sg_endpoints.created_at')).toBe('bigint');
    expect(type('sg_endpoint_instances.heartbeat_at')).toBe('bigint');
    expect(type('sg_rollups.latency_counts')).toBe('jsonb');
    expect(type('sg_rollups.bucket_start')).toBe('bigint');
  });

  it('keeps one latest record per (graph, name): the partial unique index', async () => {
    const s = await db.opened();
    await register(s, def('finance', 'h1'));
    const insert =
      'INSERT INTO sg_endpoints (uid, graph, name, tag, step, kind, model_class, execution_mechanism, labels, ' +
      "creation_strategy, definition_hash, created_at, updated_at) VALUES ($1, 'support', 'finance', $2, 'r', " +
      "'model', 'LLModel', 'asyncio', '{}', 'inplace', 'h9', 0, 0)";
    await expect(db.sql(insert, ['x'.repeat(32), 'latest'])).rejects.toThrow(/sg_endpoints_latest/);
    await db.sql(insert, ['y'.repeat(32), null]);
    expect(await db.num('SELECT count(*) FROM sg_endpoints')).toBe(2);
  });

  it('applies the migrations once: opening again changes nothing, data is kept', async () => {
    const s = await db.opened();
    const uid = await register(s, def('finance', 'h1'));
    await s.close();
    const again = await db.opened();
    await db.opened();
    expect(await db.num('SELECT count(*) FROM sg_schema_migrations')).toBe(1);
    expect((await again.getEndpoint({ graph: 'support', name: 'finance', now: T0 }))?.uid).toBe(uid);
  });

  it('two or more stores opening together migrate once (one sg_schema_migrations row)', async () => {
    const stores = Array.from({ length: 4 }, () => db.store());
    await Promise.all(stores.map((s) => s.open()));
    expect(await db.num('SELECT count(*) FROM sg_schema_migrations')).toBe(1);
    expect(await tables()).toHaveLength(5);
    // both work on the one schema
    await register(stores[0], def('finance', 'h1'));
    expect(await stores[1].listEndpoints({ all: true, now: T0 })).toHaveLength(1);
  });

  it('open twice at once on one store opens it once; open after close opens it again', async () => {
    const s = db.store();
    await Promise.all([s.open(), s.open()]);
    const uid = await register(s, def('finance', 'h1'));
    await s.close();
    await s.close();
    await s.open();
    expect((await s.getEndpoint({ graph: 'support', name: 'finance', now: T0 }))?.uid).toBe(uid);
  });

  it('applies later migrations in order, each with its row', async () => {
    await db.opened();
    const more: PostgresMigration[] = [
      ...(await import('../../src/monitoring/store/postgres-schema.js')).POSTGRES_MIGRATIONS,
      { version: 2, name: 'extra', sql: 'CREATE TABLE sg_extra (x INTEGER)' },
    ];
    await db.store(db.url, { migrations: more }).open();
    expect(await db.sql('SELECT version, name FROM sg_schema_migrations ORDER BY version')).toEqual([
      { version: 1, name: 'initial' },
      { version: 2, name: 'extra' },
    ]);
  });

  it('a schema newer than this release is SG_ERR_MONITOR_SCHEMA, for servers and read-only opens', async () => {
    await db.opened();
    await db.sql("INSERT INTO sg_schema_migrations (version, name, applied_at) VALUES (2, 'future', 0)");
    const err = await rejectsWith(db.store().open(), 'SG_ERR_MONITOR_SCHEMA');
    expect(err.message).toMatch(/version 2 is newer than this release knows \(version 1\)/);
    await rejectsWith(db.store().open({ readOnly: true }), 'SG_ERR_MONITOR_SCHEMA');
  });

  it('a failing migration is SG_ERR_MONITOR_SCHEMA and leaves nothing behind', async () => {
    const broken: PostgresMigration[] = [
      { version: 1, name: 'broken', sql: 'CREATE TABLE sg_schema_migrations (version INTEGER); SELECT nope FROM x' },
    ];
    const err = await rejectsWith(db.store(db.url, { migrations: broken }).open(), 'SG_ERR_MONITOR_SCHEMA');
    expect(err.message).toMatch(/migration 1 \(broken\) failed/);
    expect(await tables()).toEqual([]);
  });

  it('read-only: never migrates; an empty database answers empty, writes are refused', async () => {
    const ro = await db.opened({ readOnly: true });
    expect(await tables()).toEqual([]);
    expect(await ro.listEndpoints({ all: true, now: T0 })).toEqual([]);
    expect(await ro.getEndpoint({ graph: 'support', name: 'finance', now: T0 })).toBeUndefined();
    expect(await ro.calls({ uid: 'x', limit: 5 })).toEqual([]);
    expect((await ro.aggregate({ uid: 'x', from: 0, to: T0 })).count).toBe(0);

    const rw = await db.opened();
    const uid = await register(rw, def('finance', 'h1'));
    const ro2 = await db.opened({ readOnly: true });
    expect((await ro2.getEndpoint({ graph: 'support', name: 'finance', now: T0 }))?.uid).toBe(uid);
    const instance = { id: 'x', host: 'h', pid: 1, startedAt: 0 };
    const err = await rejectsWith(ro2.heartbeat(instance, T0), 'SG_ERR_MONITOR_STORE_UNAVAILABLE');
    expect(err.message).toMatch(/read-only transaction/);
  });

  it('an unreachable server is SG_ERR_MONITOR_STORE_UNAVAILABLE at open, the password masked', async () => {
    const port = await closedPort();
    const url = `postgres://servegraph:s3cret@127.0.0.1:${port}/servegraph_test`;
    const s = new PostgresStore(url);
    expect(s.displayUrl).toBe(`postgres://servegraph:***@127.0.0.1:${port}/servegraph_test`);
    const err = await rejectsWith(s.open(), 'SG_ERR_MONITOR_STORE_UNAVAILABLE');
    expect(err.message).toContain(`postgres://servegraph:***@127.0.0.1:${port}/servegraph_test`);
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.message).not.toContain('s3cret');
    // not open: every method rejects the same way
    await rejectsWith(s.listEndpoints({ all: true, now: T0 }), 'SG_ERR_MONITOR_STORE_UNAVAILABLE');
    await s.close();
  });

  it('a wrong password is SG_ERR_MONITOR_STORE_UNAVAILABLE too', async () => {
    const url = new URL(PG_URL);
    url.password = 'wrong-password';
    const err = await rejectsWith(new PostgresStore(url.toString()).open(), 'SG_ERR_MONITOR_STORE_UNAVAILABLE');
    expect(err.message).toMatch(/password authentication failed/);
    expect(err.message).not.toContain('wrong-password');
  });
});
