import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, it } from 'vitest';
import { PostgresStore, type PostgresStoreOptions } from '../../src/monitoring/store/postgres-store.js';

/**
 * Helpers of the PostgreSQL store tests. They run against `SERVEGRAPH_TEST_PG_URL` (a database they may drop and
 * recreate objects in; `.ci/run` starts the server and sets it). Each test file works in a schema of its own,
 * dropped and recreated before each test (`search_path` given in the URL), so that files running in parallel
 * do not meet.
 */

export const PG_URL = process.env.SERVEGRAPH_TEST_PG_URL ?? '';
const UNDER_CI = process.env.CI === 'true';

/**
 * `describe` for suites that need PostgreSQL: skipped, saying so, when `SERVEGRAPH_TEST_PG_URL` (or another of
 * `vars`) is unset and CI is not `true`; under CI a missing variable fails the run.
 */
export function describePg(name: string, fn: () => void, vars: readonly string[] = []): void {
  const missing = ['SERVEGRAPH_TEST_PG_URL', ...vars].filter((v) => (process.env[v] ?? '') === '');
  if (missing.length > 0 && UNDER_CI) {
    describe(name, () => {
      it(`needs ${missing.join(', ')} (required under CI=true)`, () => {
        throw new Error(`${missing.join(', ')} not set: .ci/run must start PostgreSQL and export it`);
      });
    });
    return;
  }
  const why = `(skipped: ${missing.join(', ')} not set, no PostgreSQL server for it)`;
  describe.skipIf(missing.length > 0)(missing.length > 0 ? `${name} ${why}` : name, fn);
}

/** `url` with a `search_path` of `schema` for every connection. */
export function withSchema(url: string, schema: string): string {
  const sep = url.includes('?') ? '&' : '?';
  return `${url}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

export { def, INSTANCE, OTHER, register, row, T0 } from './store-fixtures.js';

/**
 * The schema `schema` of the test database, dropped and recreated before each test; stores made with `store()` are
 * closed after each test. `url` is the database's URL with that schema as search path; `sql()` runs a statement
 * there as the tests' own client.
 */
export function usePgSchema(schema: string) {
  const url = withSchema(PG_URL, schema);
  const stores: PostgresStore[] = [];
  let admin: pg.Client | undefined;

  const client = async (): Promise<pg.Client> => {
    if (admin === undefined) {
      admin = new pg.Client({ connectionString: url });
      admin.on('error', () => undefined);
      await admin.connect();
    }
    return admin;
  };

  beforeEach(async () => {
    if (PG_URL === '') return;
    const c = await client();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.query(`CREATE SCHEMA ${schema}`);
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close().catch(() => undefined)));
  });
  afterAll(async () => {
    await admin?.end().catch(() => undefined);
  });

  return {
    url,
    /** a store on `u` (default: this file's schema), closed after the test; not opened */
    store(u = url, options?: PostgresStoreOptions): PostgresStore {
      const s = new PostgresStore(u, options);
      stores.push(s);
      return s;
    },
    /** an opened store (see `store`) */
    async opened(options?: { readOnly?: boolean }, u = url): Promise<PostgresStore> {
      const s = new PostgresStore(u);
      stores.push(s);
      await s.open(options);
      return s;
    },
    /** the rows of a statement, in this file's schema */
    async sql<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, params: unknown[] = []) {
      return (await (await client()).query<R>(text, params)).rows;
    },
    /** the single number a statement answers (`count(*)` and the like) */
    async num(text: string, params: unknown[] = []): Promise<number> {
      const rows = (await (await client()).query(text, params)).rows;
      return Number(Object.values(rows[0])[0]);
    },
  };
}
