import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { expect, it } from 'vitest';
import { SgError } from '../../src/errors/index.js';
import { PostgresStore } from '../../src/monitoring/store/postgres-store.js';
import { def, describePg, INSTANCE, register, row, T0, usePgSchema, withSchema } from './postgres-fixtures.js';

/**
 * A PostgreSQL server that goes away while a store is open (monitoring.md sections 5 and 11): writes reject with
 * SG_ERR_MONITOR_STORE_UNAVAILABLE, and the same store writes again once the server is back, without reopening.
 * The real outage stops and starts a cluster of its own (`SERVEGRAPH_TEST_PG_OUTAGE_CLUSTER`, "<version> <name>",
 * and its `SERVEGRAPH_TEST_PG_OUTAGE_URL`, both set by .ci/run) with `pg_ctlcluster`; the other suite simulates
 * one on the shared server by terminating the store's backends with `pg_terminate_backend`.
 */

const db = usePgSchema('sgtest_outage');
const APP = `sgtest-outage-${process.pid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function unavailable(p: Promise<unknown>): Promise<SgError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SgError);
  expect((err as SgError).code).toBe('SG_ERR_MONITOR_STORE_UNAVAILABLE');
  return err as SgError;
}

/** Retry `fn` until it resolves (the server coming back), rejecting only with STORE_UNAVAILABLE meanwhile. */
async function eventually<T>(fn: () => Promise<T>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      expect((err as SgError).code).toBe('SG_ERR_MONITOR_STORE_UNAVAILABLE');
      if (Date.now() > end) throw err;
      await sleep(200);
    }
  }
}

describePg('PostgresStore: backends terminated while open (simulated outage)', () => {
  const url = `${db.url}&application_name=${APP}`;
  const terminate = () =>
    db.num('SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1', [APP]);

  it('a write cut off in flight rejects with STORE_UNAVAILABLE; the next writes succeed', async () => {
    const s = db.store(url);
    await s.open();
    const uid = await register(s, def('finance', 'h1'));
    await s.writeCalls({ rows: [row(uid, T0)], rollups: [], instance: INSTANCE, now: T0 });
    // hold the endpoint row so that the next write waits on it, then cut its connection
    await db.sql('BEGIN');
    try {
      await db.sql('SELECT uid FROM sg_endpoints FOR UPDATE');
      const write = s.writeCalls({ rows: [row(uid, T0 + 1)], rollups: [], instance: INSTANCE, now: T0 });
      // its outcome is taken at once: the rejection may come before the terminate() below returns, and a
      // rejection with no handler yet is reported as unhandled
      const failure = unavailable(write);
      const waiting = () =>
        db.num("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [APP]);
      for (let i = 0; i < 100 && (await waiting()) === 0; i++) await sleep(50);
      expect(await terminate()).toBeGreaterThan(0);
      const err = await failure;
      expect(err.message).toContain(s.displayUrl);
      expect(err.message).toMatch(/terminating connection due to administrator command|Connection terminated/);
    } finally {
      await db.sql('ROLLBACK');
    }
    await s.writeCalls({ rows: [row(uid, T0 + 2)], rollups: [], instance: INSTANCE, now: T0 });
    expect((await s.calls({ uid, limit: 10 })).map((c) => c.startedAt)).toEqual([T0 + 2, T0]);
  });

  it('idle connections terminated: writes go on on new connections', async () => {
    const s = db.store(url);
    await s.open();
    const uid = await register(s, def('finance', 'h1'));
    await Promise.all([1, 2, 3].map((i) => s.calls({ uid, limit: i }))); // several pooled connections
    expect(await terminate()).toBeGreaterThan(0);
    for (let i = 1; i <= 3; i++) {
      await eventually(() => s.writeCalls({ rows: [row(uid, T0 + i)], rollups: [], instance: INSTANCE, now: T0 }));
    }
    expect(await s.calls({ uid, limit: 10 })).toHaveLength(3);
  });
});

const OUTAGE_URL = process.env.SERVEGRAPH_TEST_PG_OUTAGE_URL ?? '';
const CLUSTER = (process.env.SERVEGRAPH_TEST_PG_OUTAGE_CLUSTER ?? '').split(' ');
const ctl = (action: 'start' | 'stop') =>
  execFileSync('pg_ctlcluster', [...CLUSTER, action, ...(action === 'stop' ? ['-m', 'fast'] : [])], {
    stdio: 'ignore',
    timeout: 60_000,
  });
const running = () => {
  try {
    execFileSync('pg_ctlcluster', [...CLUSTER, 'status'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describePg('PostgresStore: a server stopped and started again (pg_ctlcluster)', () => {
  it('writes reject with STORE_UNAVAILABLE while it is down and succeed again once it is back', async () => {
    const admin = new pg.Client({ connectionString: OUTAGE_URL });
    admin.on('error', () => undefined);
    await admin.connect();
    await admin.query('DROP SCHEMA IF EXISTS sgtest_outage CASCADE');
    await admin.query('CREATE SCHEMA sgtest_outage');
    await admin.end();

    const url = withSchema(OUTAGE_URL, 'sgtest_outage');
    const s = db.store(url);
    await s.open();
    const uid = await register(s, def('finance', 'h1'));
    await s.writeCalls({ rows: [row(uid, T0)], rollups: [], instance: INSTANCE, now: T0 });
    try {
      ctl('stop');
      const password = new URL(OUTAGE_URL).password;
      const err = await unavailable(
        s.writeCalls({ rows: [row(uid, T0 + 1)], rollups: [], instance: INSTANCE, now: T0 }),
      );
      expect(err.message).toContain(s.displayUrl);
      expect(err.message).not.toContain(password);
      await unavailable(s.writeCalls({ rows: [row(uid, T0 + 2)], rollups: [], instance: INSTANCE, now: T0 }));
      await unavailable(s.heartbeat(INSTANCE, T0));
      await unavailable(s.listEndpoints({ all: true, now: T0 }));
      const other = new PostgresStore(url, { connectTimeoutMs: 2000 });
      await unavailable(other.open());
    } finally {
      if (!running()) ctl('start');
    }
    await eventually(() => s.writeCalls({ rows: [row(uid, T0 + 3)], rollups: [], instance: INSTANCE, now: T0 }));
    await s.writeCalls({ rows: [row(uid, T0 + 4)], rollups: [], instance: INSTANCE, now: T0 });
    expect((await s.calls({ uid, limit: 10 })).map((c) => c.startedAt)).toEqual([T0 + 4, T0 + 3, T0]);
  });
}, ['SERVEGRAPH_TEST_PG_OUTAGE_URL', 'SERVEGRAPH_TEST_PG_OUTAGE_CLUSTER']);
