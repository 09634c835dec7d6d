import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { SqliteStore } from '../../src/monitoring/store/sqlite-store.js';

export { def, INSTANCE, OTHER, register, row, T0 } from './store-fixtures.js';

const dirs: string[] = [];
const stores: SqliteStore[] = [];

/** A fresh temporary folder, removed after the test. */
export function tmpDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sg-store-'));
  dirs.push(d);
  return d;
}

/** A store on `url` (default: a new file in a fresh folder), closed after the test; not opened. */
export function store(url = `sqlite:${join(tmpDir(), 'monitor.db')}`): SqliteStore {
  const s = new SqliteStore(url);
  stores.push(s);
  return s;
}

/** An opened store (see `store`). */
export async function opened(url?: string, options?: { readOnly?: boolean }): Promise<SqliteStore> {
  const s = store(url);
  await s.open(options);
  return s;
}

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
