// Creation strategies (monitoring.md section 2) through real servers sharing one SQLite file.
import { describe, expect, test } from 'vitest';
import { calls, type GraphOptions, sleep, start, stop, tempStore } from './monitor-fixtures.js';

async function run(url: string, o: GraphOptions, n: number) {
  const app = await start(o, { tracking: { store: url } });
  expect(await calls(app, n)).toEqual(new Array(n).fill(200));
  await app.monitoring.flush();
  const rec = await app.monitoring.getEndpoint('m');
  return { app, rec };
}

describe('creation strategies on one SQLite file', () => {
  test('a restart with the same definition touches the same record, whatever the strategy', async () => {
    for (const strategy of ['inplace', 'overwrite', 'archive'] as const) {
      const { url } = tempStore();
      const { app, rec: first } = await run(url, { strategy, endpoint: 'm' }, 2);
      await stop(app);
      await sleep(5);
      const { app: again, rec } = await run(url, { strategy, endpoint: 'm' }, 1);
      expect(rec.uid).toBe(first.uid);
      expect(rec.tag).toBe('latest');
      expect(rec.definitionHash).toBe(first.definitionHash);
      const all = await again.monitoring.listEndpoints({ all: true, window: '1m' });
      expect(all).toHaveLength(1);
      expect(all[0].stats?.count).toBe(3);
      await stop(again);
    }
  });

  test('archive: a changed artifact makes a new latest record; the old one is kept without tag, with its calls', async () => {
    const { url } = tempStore();
    const { app, rec: old } = await run(url, { strategy: 'archive', config: { v: 1 } }, 3);
    await stop(app);
    const { app: b, rec } = await run(url, { strategy: 'archive', config: { v: 2 } }, 1);
    expect(rec.uid).not.toBe(old.uid);
    expect(rec.tag).toBe('latest');
    expect(rec.definitionHash).not.toBe(old.definitionHash);
    const all = await b.monitoring.listEndpoints({ all: true, window: '1m' });
    expect(all.map((e) => [e.uid, e.tag])).toEqual([
      [old.uid, null],
      [rec.uid, 'latest'],
    ]);
    expect(all[0].stats?.count).toBe(3);
    expect(all[1].stats?.count).toBe(1);
    expect((await b.monitoring.stats('m', { window: '1m', uid: old.uid as string })).count).toBe(3);
    const latest = await b.monitoring.listEndpoints({ window: '1m' });
    expect(latest.map((e) => e.uid)).toEqual([rec.uid]);
    expect((await b.monitoring.calls('m')).every((c) => c.endpointUid === rec.uid)).toBe(true);
  });

  test('overwrite: a changed artifact deletes the old record and its calls', async () => {
    const { url } = tempStore();
    const { app, rec: old } = await run(url, { strategy: 'overwrite', config: { v: 1 } }, 3);
    await stop(app);
    const { app: b, rec } = await run(url, { strategy: 'overwrite', config: { v: 2 } }, 1);
    expect(rec.uid).not.toBe(old.uid);
    expect(rec.tag).toBe('latest');
    const all = await b.monitoring.listEndpoints({ all: true, window: '1m' });
    expect(all.map((e) => e.uid)).toEqual([rec.uid]);
    expect(all[0].stats?.count).toBe(1);
    expect((await b.monitoring.calls('m', { limit: 1000 })).map((c) => c.endpointUid)).toEqual([rec.uid]);
    await expect(b.monitoring.stats('m', { window: '1m', uid: old.uid as string })).rejects.toMatchObject({
      code: 'SG_ERR_ENDPOINT_NOT_FOUND',
    });
  });

  test('inplace: a changed artifact updates the same record and keeps its calls', async () => {
    const { url } = tempStore();
    const { app, rec: old } = await run(url, { strategy: 'inplace', config: { v: 1 } }, 3);
    await stop(app);
    await sleep(5);
    const { app: b, rec } = await run(url, { strategy: 'inplace', config: { v: 2 } }, 1);
    expect(rec.uid).toBe(old.uid);
    expect(rec.tag).toBe('latest');
    expect(rec.definitionHash).not.toBe(old.definitionHash);
    expect(rec.createdAt).toBe(old.createdAt);
    expect(Date.parse(rec.updatedAt as string)).toBeGreaterThan(Date.parse(old.updatedAt as string));
    expect((rec.artifact as { key: string }).key).toBe('k');
    const all = await b.monitoring.listEndpoints({ all: true, window: '1m' });
    expect(all).toHaveLength(1);
    expect(all[0].stats?.count).toBe(4);
    expect(await b.monitoring.calls('m', { limit: 1000 })).toHaveLength(4);
  });
});
