import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { def, INSTANCE, OTHER, opened, register, row, T0, tmpDir } from './sqlite-fixtures.js';

const T1 = T0 + 60_000;
const T2 = T0 + 120_000;
const scalar = (file: string, sql: string): unknown => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).pluck().get();
  } finally {
    db.close();
  }
};

async function withFile() {
  const file = join(tmpDir(), 'm.db');
  return { file, s: await opened(`sqlite:${file}`) };
}

describe('SqliteStore: creation strategies (monitoring.md section 2)', () => {
  it('stores a new record with exactly the fields of section 1', async () => {
    const { s } = await withFile();
    const d = def('finance', 'h1', { labels: { team: 'risk', eu: '' }, inputs: ['question'] });
    const uid = await register(s, d);
    expect(uid).toMatch(/^[0-9a-f]{32}$/);
    expect(await s.getEndpoint({ graph: 'support', name: 'finance', now: T0 })).toEqual({
      uid,
      graph: 'support',
      name: 'finance',
      step: 'runner',
      kind: 'model',
      sharedModel: null,
      modelClass: 'LLModel',
      executionMechanism: 'asyncio',
      labels: { team: 'risk', eu: '' },
      inputs: ['question'],
      outputs: ['answer', 'usage'],
      artifact: { kind: 'llm-prompt', key: 'finance-prompt', modelUrl: 'openai://gpt-4o-mini', path: null },
      creationStrategy: 'inplace',
      tag: 'latest',
      definitionHash: 'h1',
      state: 'serving',
      error: null,
      instances: 1,
      createdAt: '2026-11-24T21:00:00.000Z',
      updatedAt: '2026-11-24T21:00:00.000Z',
      firstRequestAt: null,
      lastRequestAt: null,
    });
  });

  for (const strategy of ['inplace', 'overwrite', 'archive'] as const) {
    it(`${strategy}: the same hash only touches the latest record (same uid, updatedAt kept, calls kept)`, async () => {
      const { file, s } = await withFile();
      const uid = await register(s, def('finance', 'h1', { creationStrategy: strategy }));
      await s.writeCalls({ rows: [row(uid, T0 + 5)], rollups: [], instance: INSTANCE, now: T0 });
      const again = await register(s, def('finance', 'h1', { creationStrategy: strategy, step: 'ignored' }), {
        now: T1,
        instance: OTHER,
      });
      expect(again).toBe(uid);
      const [r] = await s.listEndpoints({ graph: 'support', all: true, now: T1 });
      expect(r).toMatchObject({ uid, step: 'runner', updatedAt: new Date(T0).toISOString(), instances: 2 });
      expect(scalar(file, 'SELECT count(*) FROM sg_endpoints')).toBe(1);
      expect(scalar(file, 'SELECT count(*) FROM sg_calls')).toBe(1);
    });
  }

  it('inplace with a new definition: same uid, fields replaced, updatedAt = now, calls kept', async () => {
    const { s } = await withFile();
    const uid = await register(s, def('finance', 'h1'));
    await s.writeCalls({ rows: [row(uid, T0 + 5)], rollups: [], instance: INSTANCE, now: T0 });
    const next = def('finance', 'h2', { step: 'runner2', labels: { team: 'ops' }, artifact: null, sharedModel: 'big' });
    expect(await register(s, next, { now: T1 })).toBe(uid);
    const all = await s.listEndpoints({ graph: 'support', all: true, now: T1 });
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      uid,
      step: 'runner2',
      labels: { team: 'ops' },
      artifact: null,
      sharedModel: 'big',
      definitionHash: 'h2',
      tag: 'latest',
      createdAt: new Date(T0).toISOString(),
      updatedAt: new Date(T1).toISOString(),
    });
    expect(await s.calls({ uid, limit: 10 })).toHaveLength(1);
  });

  it('overwrite with a new definition: the old record goes with its calls, rollups and instances', async () => {
    const { file, s } = await withFile();
    const d = def('finance', 'h1', { creationStrategy: 'overwrite' });
    const a = await register(s, d);
    await s.writeCalls({
      rows: [row(a, T0 + 5)],
      rollups: [{ endpointUid: a, bucketStart: T0, latency: [1], ttfc: [0] }],
      instance: INSTANCE,
      now: T0,
    });
    const b = await register(s, { ...d, definitionHash: 'h2' }, { now: T1 });
    expect(b).not.toBe(a);
    expect(b).toMatch(/^[0-9a-f]{32}$/);
    const all = await s.listEndpoints({ graph: 'support', all: true, now: T1 });
    expect(all.map((r) => [r.uid, r.tag, r.createdAt])).toEqual([[b, 'latest', new Date(T1).toISOString()]]);
    expect(scalar(file, 'SELECT count(*) FROM sg_calls')).toBe(0);
    expect(scalar(file, 'SELECT count(*) FROM sg_rollups')).toBe(0);
    expect(scalar(file, `SELECT count(*) FROM sg_endpoint_instances WHERE endpoint_uid = '${a}'`)).toBe(0);
  });

  it('archive, the example of section 2: a, then b (a untagged, calls kept), then b touched', async () => {
    const { file, s } = await withFile();
    const d = def('finance', 'h1', { creationStrategy: 'archive' });
    const a = await register(s, d);
    await s.writeCalls({ rows: [row(a, T0 + 5)], rollups: [], instance: INSTANCE, now: T0 });
    const b = await register(s, { ...d, definitionHash: 'h2' }, { now: T1 });
    expect(b).not.toBe(a);
    const third = await register(s, { ...d, definitionHash: 'h2' }, { now: T2 });
    expect(third).toBe(b);
    const all = await s.listEndpoints({ graph: 'support', all: true, now: T2 });
    expect(all.map((r) => [r.uid, r.tag, r.updatedAt])).toEqual([
      [a, null, new Date(T1).toISOString()],
      [b, 'latest', new Date(T1).toISOString()],
    ]);
    expect((await s.listEndpoints({ graph: 'support', all: false, now: T2 })).map((r) => r.uid)).toEqual([b]);
    expect(await s.calls({ uid: a, limit: 10 })).toHaveLength(1);
    expect(scalar(file, 'SELECT count(*) FROM sg_endpoints')).toBe(2);
    expect((await s.getEndpoint({ graph: 'support', name: 'finance', now: T2 }))?.uid).toBe(b);
    expect((await s.getEndpoint({ graph: 'support', name: 'finance', uid: a, now: T2 }))?.tag).toBeNull();
  });

  it('applies several definitions in one call; graphs are separate; lists sort by name then createdAt', async () => {
    const { s } = await withFile();
    const uids = await s.applyEndpoints({
      graph: 'support',
      defs: [def('travel', 't1', { creationStrategy: 'archive' }), def('finance', 'f1')],
      instance: INSTANCE,
      state: 'loading',
      now: T0,
    });
    expect([...uids.keys()]).toEqual(['travel', 'finance']);
    await register(s, def('travel', 't2', { creationStrategy: 'archive' }), { now: T1 });
    const other = await register(s, def('finance', 'f1'), { graph: 'billing' });
    expect(other).not.toBe(uids.get('finance'));
    const list = await s.listEndpoints({ graph: 'support', all: true, now: T1 });
    expect(list.map((r) => [r.name, r.definitionHash])).toEqual([
      ['finance', 'f1'],
      ['travel', 't1'],
      ['travel', 't2'],
    ]);
    expect((await s.listEndpoints({ all: false, now: T1 })).map((r) => `${r.graph}/${r.name}`)).toEqual([
      'billing/finance',
      'support/finance',
      'support/travel',
    ]);
    expect(await s.getEndpoint({ graph: 'support', name: 'nope', now: T1 })).toBeUndefined();
    expect(await s.getEndpoint({ graph: 'support', name: 'travel', uid: other, now: T1 })).toBeUndefined();
  });
});

describe('SqliteStore: instances and state (monitoring.md 7.3)', () => {
  it('derives state from live instance rows (heartbeat under 90 s old)', async () => {
    const { s } = await withFile();
    const uid = await register(s, def('finance', 'h1'), { state: 'loading' });
    const state = async (now: number) => {
      const r = await s.getEndpoint({ graph: 'support', name: 'finance', now });
      return [r?.state, r?.instances, r?.error];
    };
    expect(await state(T0)).toEqual(['loading', 0, null]);
    await s.setInstanceState({ uids: [uid], instance: INSTANCE, state: 'serving', error: null, now: T0 });
    expect(await state(T0 + 89_999)).toEqual(['serving', 1, null]);
    expect(await state(T0 + 90_000)).toEqual(['stopped', 0, null]);
    await s.setInstanceState({ uids: [uid], instance: OTHER, state: 'serving', error: null, now: T0 });
    expect(await state(T0)).toEqual(['serving', 2, null]);
    await s.setInstanceState({ uids: [uid], instance: OTHER, state: 'error', error: 'boom', now: T0 });
    expect(await state(T0)).toEqual(['serving', 1, null]);
    await s.setInstanceState({ uids: [uid], instance: INSTANCE, state: 'stopped', error: 'ignored', now: T0 });
    expect(await state(T0)).toEqual(['error', 0, 'boom']);
    await s.setInstanceState({ uids: [uid], instance: INSTANCE, state: 'loading', error: null, now: T0 });
    expect(await state(T0)).toEqual(['loading', 0, null]);
    // heartbeats keep an instance live
    await s.setInstanceState({ uids: [uid], instance: INSTANCE, state: 'serving', error: null, now: T0 });
    await s.heartbeat(INSTANCE, T1);
    expect(await state(T1 + 89_000)).toEqual(['serving', 1, null]);
    expect((await s.listEndpoints({ graph: 'support', all: false, now: T1 + 89_000 }))[0].state).toBe('serving');
  });

  it('writeCalls heartbeats the writing instance; stale instance rows are deleted', async () => {
    const { file, s } = await withFile();
    const uid = await register(s, def('finance', 'h1'));
    await register(s, def('finance', 'h1'), { instance: OTHER });
    await s.writeCalls({ rows: [row(uid, T1)], rollups: [], instance: INSTANCE, now: T2 });
    expect((await s.getEndpoint({ graph: 'support', name: 'finance', now: T2 + 80_000 }))?.instances).toBe(1);
    await s.deleteStaleInstances(T1);
    expect(scalar(file, 'SELECT instance_id FROM sg_endpoint_instances')).toBe('inst-a');
    expect(scalar(file, 'SELECT count(*) FROM sg_endpoint_instances')).toBe(1);
  });

  it('setInstanceState skips uids without a record', async () => {
    const { file, s } = await withFile();
    await s.setInstanceState({ uids: ['f'.repeat(32)], instance: INSTANCE, state: 'stopped', error: null, now: T0 });
    expect(scalar(file, 'SELECT count(*) FROM sg_endpoint_instances')).toBe(0);
  });
});
