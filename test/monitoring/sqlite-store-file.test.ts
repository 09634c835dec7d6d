import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SgError } from '../../src/errors/index.js';
import { def, INSTANCE, opened, register, row, T0, tmpDir } from './sqlite-fixtures.js';

async function rejection(p: Promise<unknown>): Promise<SgError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SgError);
  return err as SgError;
}

describe('SqliteStore: a file that disappears (monitoring.md section 5)', () => {
  it('a removed file fails the write with STORE_UNAVAILABLE, writes nothing, and close + open recreates it', async () => {
    const file = join(tmpDir(), 'm.db');
    const s = await opened(`sqlite:${file}`);
    const uid = await register(s, def('finance', 'h1'));
    await s.writeCalls({ rows: [row(uid, T0)], rollups: [], instance: INSTANCE, now: T0 });
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });

    const err = await rejection(s.writeCalls({ rows: [row(uid, T0 + 1)], rollups: [], instance: INSTANCE, now: T0 }));
    expect(err.code).toBe('SG_ERR_MONITOR_STORE_UNAVAILABLE');
    expect(err.details).toEqual({ reason: 'file_missing', path: file });
    expect(existsSync(file)).toBe(false);
    // the open connection still reads the orphaned file: the failed write left nothing in it
    expect((await s.calls({ uid, limit: 10 })).map((c) => c.startedAt)).toEqual([T0]);
    // every write checks, not only writeCalls
    expect((await rejection(s.heartbeat(INSTANCE, T0))).details.reason).toBe('file_missing');

    await s.close();
    await s.open();
    expect(existsSync(file)).toBe(true);
    expect(await s.listEndpoints({ all: true, now: T0 })).toEqual([]);
    const fresh = await register(s, def('finance', 'h1'));
    expect(fresh).not.toBe(uid);
    await s.writeCalls({ rows: [row(fresh, T0 + 2)], rollups: [], instance: INSTANCE, now: T0 });
    expect((await s.calls({ uid: fresh, limit: 10 })).map((c) => c.startedAt)).toEqual([T0 + 2]);
  });

  it('a file replaced by another one (a copy: another inode) is file_replaced; a new store opens the copy', async () => {
    const dir = tmpDir();
    const file = join(dir, 'm.db');
    const s = await opened(`sqlite:${file}`);
    const uid = await register(s, def('finance', 'h1'));
    await s.close();
    await s.open();
    renameSync(file, join(dir, 'old.db'));
    copyFileSync(join(dir, 'old.db'), file);
    const err = await rejection(s.writeCalls({ rows: [row(uid, T0)], rollups: [], instance: INSTANCE, now: T0 }));
    expect(err.code).toBe('SG_ERR_MONITOR_STORE_UNAVAILABLE');
    expect(err.details.reason).toBe('file_replaced');
    await s.close();
    const again = await opened(`sqlite:${file}`);
    await again.writeCalls({ rows: [row(uid, T0)], rollups: [], instance: INSTANCE, now: T0 });
    expect(await again.calls({ uid, limit: 10 })).toHaveLength(1);
  });
});

describe('SqliteStore: a read-only reader next to a writer (WAL)', () => {
  it('sees the rows the writer commits while both are open', async () => {
    const file = join(tmpDir(), 'm.db');
    const writer = await opened(`sqlite:${file}`);
    const uid = await register(writer, def('finance', 'h1'));
    const reader = await opened(`sqlite:${file}`, { readOnly: true });
    expect(await reader.calls({ uid, limit: 10 })).toEqual([]);
    await writer.writeCalls({
      rows: [row(uid, T0), row(uid, T0 + 1, { latencyMs: 30 })],
      rollups: [],
      instance: INSTANCE,
      now: T0,
    });
    expect((await reader.aggregate({ uid, from: T0, to: T0 + 10 })).count).toBe(2);
    const pending = Array.from({ length: 20 }, (_, i) =>
      writer.writeCalls({ rows: [row(uid, T0 + 10 + i)], rollups: [], instance: INSTANCE, now: T0 }),
    );
    const reads = Array.from({ length: 20 }, () => reader.aggregate({ uid, from: T0, to: T0 + 100 }));
    await Promise.all(pending);
    for (const r of await Promise.all(reads)) expect(r.count).toBeGreaterThanOrEqual(2);
    expect((await reader.aggregate({ uid, from: T0, to: T0 + 100 })).count).toBe(22);
    const [rec] = await reader.listEndpoints({ graph: 'support', all: false, now: T0 });
    expect(rec).toMatchObject({ uid, state: 'serving', lastRequestAt: new Date(T0 + 29).toISOString() });
  });

  it('a second writer on the same file shares it (migrations run once)', async () => {
    const file = join(tmpDir(), 'm.db');
    const [a, b] = await Promise.all([opened(`sqlite:${file}`), opened(`sqlite:${file}`)]);
    const uid = await register(a, def('finance', 'h1'));
    expect(await register(b, def('finance', 'h1'))).toBe(uid);
    await Promise.all([
      a.writeCalls({ rows: [row(uid, T0)], rollups: [], instance: INSTANCE, now: T0 }),
      b.writeCalls({ rows: [row(uid, T0 + 1)], rollups: [], instance: INSTANCE, now: T0 }),
    ]);
    expect(await b.calls({ uid, limit: 10 })).toHaveLength(2);
  });
});
