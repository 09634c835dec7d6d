import { expect, it } from 'vitest';
import type { MonitorStore } from '../../src/monitoring/store/store.js';
import { def, INSTANCE, OTHER, register, row, T0 } from './store-fixtures.js';

/**
 * The endpoint part of the store contract (monitoring.md sections 1, 2 and 7.3), one suite run against every store:
 * `sqlite-store-endpoints.test.ts` and `postgres-store-strategies.test.ts` give it their harness.
 */

export type StoreTable = 'sg_endpoints' | 'sg_calls' | 'sg_rollups' | 'sg_endpoint_instances';

/** An instance row as the tests read it, times as numbers. */
export type InstanceRowView = {
  instance_id: string;
  host: string;
  pid: number;
  state: string;
  started_at: number;
  heartbeat_at: number;
};

/** What the contract needs of a store's test setup; each test starts on an empty database. */
export type StoreHarness = {
  /** an opened store on this test's database; a second call gives a second store (server) on the same database */
  opened(): Promise<MonitorStore>;
  /** the rows of `table` (of one endpoint, when `endpointUid` is given) */
  count(table: StoreTable, endpointUid?: string): Promise<number>;
  /** the instance rows, ordered by instance id */
  instances(): Promise<InstanceRowView[]>;
  deleteInstances(): Promise<void>;
};

const T1 = T0 + 60_000;
const T2 = T0 + 120_000;
const iso = (t: number) => new Date(t).toISOString();

/** The suites of the contract, under `describeFn` (`describe`, or `describePg` which skips without a server). */
export function endpointContract(
  describeFn: (name: string, fn: () => void) => void,
  name: string,
  h: StoreHarness,
): void {
  describeFn(`${name}: creation strategies (monitoring.md section 2)`, () => {
    it('stores a new record with exactly the fields of section 1', async () => {
      const s = await h.opened();
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
      it(`${strategy} without a record creates one tagged latest`, async () => {
        const s = await h.opened();
        const uid = await register(s, def('finance', 'h1', { creationStrategy: strategy }));
        const all = await s.listEndpoints({ all: true, now: T0 });
        expect(all.map((r) => [r.uid, r.tag, r.creationStrategy])).toEqual([[uid, 'latest', strategy]]);
      });

      it(`${strategy} with the same hash only touches the latest record (uid, updatedAt and calls kept)`, async () => {
        const s = await h.opened();
        const uid = await register(s, def('finance', 'h1', { creationStrategy: strategy }));
        await s.writeCalls({ rows: [row(uid, T0 + 5)], rollups: [], instance: INSTANCE, now: T0 });
        const again = await register(s, def('finance', 'h1', { creationStrategy: strategy, step: 'ignored' }), {
          now: T1,
          instance: OTHER,
        });
        expect(again).toBe(uid);
        const [r] = await s.listEndpoints({ graph: 'support', all: true, now: T1 });
        expect(r).toMatchObject({ uid, step: 'runner', tag: 'latest', updatedAt: iso(T0), instances: 2 });
        expect(await h.count('sg_endpoints')).toBe(1);
        expect(await h.count('sg_calls')).toBe(1);
      });
    }

    it('inplace with a new definition: same uid, fields replaced, updatedAt = now, calls kept', async () => {
      const s = await h.opened();
      const uid = await register(s, def('finance', 'h1'));
      await s.writeCalls({ rows: [row(uid, T0 + 5)], rollups: [], instance: INSTANCE, now: T0 });
      const next = def('finance', 'h2', {
        step: 'runner2',
        labels: { team: 'ops' },
        artifact: null,
        sharedModel: 'big',
      });
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
        createdAt: iso(T0),
        updatedAt: iso(T1),
        firstRequestAt: iso(T0 + 5),
      });
      expect(await s.calls({ uid, limit: 10 })).toHaveLength(1);
    });

    it('overwrite with a new definition: the old record goes with its calls, rollups and instances', async () => {
      const s = await h.opened();
      const d = def('finance', 'h1', { creationStrategy: 'overwrite' });
      const a = await register(s, d);
      await s.writeCalls({
        rows: [row(a, T0 + 5), row(a, T0 + 6)],
        rollups: [{ endpointUid: a, bucketStart: T0, latency: [2], ttfc: [0] }],
        instance: INSTANCE,
        now: T0,
      });
      const b = await register(s, { ...d, definitionHash: 'h2' }, { now: T1 });
      expect(b).not.toBe(a);
      expect(b).toMatch(/^[0-9a-f]{32}$/);
      const all = await s.listEndpoints({ graph: 'support', all: true, now: T1 });
      expect(all.map((r) => [r.uid, r.tag, r.createdAt, r.definitionHash])).toEqual([[b, 'latest', iso(T1), 'h2']]);
      expect(await h.count('sg_endpoints')).toBe(1);
      expect(await h.count('sg_calls')).toBe(0);
      expect(await h.count('sg_rollups')).toBe(0);
      expect(await h.count('sg_endpoint_instances', a)).toBe(0);
      expect(await h.count('sg_endpoint_instances', b)).toBe(1);
    });

    it('archive, the example of section 2: a, then b (a untagged, calls kept), then b touched', async () => {
      const s = await h.opened();
      const d = def('finance', 'h1', { creationStrategy: 'archive' });
      const a = await register(s, d); // start 1
      await s.writeCalls({ rows: [row(a, T0 + 5)], rollups: [], instance: INSTANCE, now: T0 });
      const b = await register(s, { ...d, definitionHash: 'h2' }, { now: T1 }); // start 2: the prompt changed
      expect(b).not.toBe(a);
      expect(await register(s, { ...d, definitionHash: 'h2' }, { now: T2 })).toBe(b); // start 3: no change
      const all = await s.listEndpoints({ graph: 'support', all: true, now: T2 });
      expect(all.map((r) => [r.uid, r.tag, r.createdAt, r.updatedAt])).toEqual([
        [a, null, iso(T0), iso(T1)],
        [b, 'latest', iso(T1), iso(T1)],
      ]);
      expect((await s.listEndpoints({ graph: 'support', all: false, now: T2 })).map((r) => r.uid)).toEqual([b]);
      expect(await s.calls({ uid: a, limit: 10 })).toHaveLength(1);
      expect(await s.calls({ uid: b, limit: 10 })).toHaveLength(0);
      expect(await h.count('sg_endpoints')).toBe(2);
      expect((await s.getEndpoint({ graph: 'support', name: 'finance', now: T2 }))?.uid).toBe(b);
      const old = await s.getEndpoint({ graph: 'support', name: 'finance', uid: a, now: T2 });
      expect(old).toMatchObject({ uid: a, tag: null, definitionHash: 'h1', firstRequestAt: iso(T0 + 5) });
    });

    it('applies several definitions in one call; graphs are separate; lists sort by graph, name, createdAt', async () => {
      const s = await h.opened();
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

    it('two servers applying one graph together create one record per endpoint', async () => {
      const [s1, s2] = [await h.opened(), await h.opened()];
      const defs = [def('finance', 'h1', { creationStrategy: 'archive' }), def('travel', 'h1')];
      const [u1, u2] = await Promise.all([
        s1.applyEndpoints({ graph: 'support', defs, instance: INSTANCE, state: 'loading', now: T0 }),
        s2.applyEndpoints({ graph: 'support', defs, instance: OTHER, state: 'loading', now: T0 }),
      ]);
      expect(u1).toEqual(u2);
      expect(await h.count('sg_endpoints')).toBe(2);
      expect(await h.count('sg_endpoint_instances')).toBe(4);
    });
  });

  describeFn(`${name}: instances and state (monitoring.md section 7.3)`, () => {
    it('derives state from live instance rows (heartbeat under 90 s old)', async () => {
      const s = await h.opened();
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
      // an old failure is not live any more
      expect(await state(T0 + 95_000)).toEqual(['stopped', 0, null]);
      // heartbeats keep an instance live
      await s.setInstanceState({ uids: [uid], instance: INSTANCE, state: 'serving', error: null, now: T0 });
      await s.heartbeat(INSTANCE, T1);
      expect(await state(T1 + 89_000)).toEqual(['serving', 1, null]);
      expect((await s.listEndpoints({ graph: 'support', all: false, now: T1 + 89_000 }))[0].state).toBe('serving');
    });

    it('the error shown is that of the most recent failed instance', async () => {
      const s = await h.opened();
      const uid = await register(s, def('finance', 'h1'), { state: 'loading' });
      await s.setInstanceState({ uids: [uid], instance: INSTANCE, state: 'error', error: 'first', now: T0 });
      await s.setInstanceState({ uids: [uid], instance: OTHER, state: 'error', error: 'second', now: T0 + 10 });
      const r = await s.getEndpoint({ graph: 'support', name: 'finance', now: T0 + 20 });
      expect([r?.state, r?.error, r?.instances]).toEqual(['error', 'second', 0]);
    });

    it('records of endpoints no longer in the graph become stopped', async () => {
      const s = await h.opened();
      await s.applyEndpoints({
        graph: 'support',
        defs: [def('finance', 'h1'), def('travel', 'h1')],
        instance: INSTANCE,
        state: 'serving',
        now: T0,
      });
      const next = { id: 'inst-c', host: 'h', pid: 3, startedAt: T1 };
      await s.applyEndpoints({
        graph: 'support',
        defs: [def('finance', 'h1')],
        instance: next,
        state: 'serving',
        now: T2,
      });
      const list = await s.listEndpoints({ graph: 'support', all: false, now: T2 });
      expect(list.map((r) => [r.name, r.state, r.instances])).toEqual([
        ['finance', 'serving', 1],
        ['travel', 'stopped', 0],
      ]);
    });

    it('writeCalls heartbeats the writing instance; stale instance rows are deleted', async () => {
      const s = await h.opened();
      const uid = await register(s, def('finance', 'h1'));
      await register(s, def('finance', 'h1'), { instance: OTHER });
      await s.writeCalls({ rows: [row(uid, T1)], rollups: [], instance: INSTANCE, now: T2 });
      expect((await s.getEndpoint({ graph: 'support', name: 'finance', now: T2 + 80_000 }))?.instances).toBe(1);
      await s.deleteStaleInstances(T1);
      expect((await h.instances()).map((r) => r.instance_id)).toEqual(['inst-a']);
    });

    it('setInstanceState skips uids without a record and upserts rows that are missing', async () => {
      const s = await h.opened();
      await s.setInstanceState({ uids: ['f'.repeat(32)], instance: INSTANCE, state: 'stopped', error: null, now: T0 });
      expect(await h.count('sg_endpoint_instances')).toBe(0);
      const uid = await register(s, def('finance', 'h1'));
      await h.deleteInstances();
      await s.setInstanceState({ uids: [uid], instance: INSTANCE, state: 'serving', error: null, now: T1 });
      expect(await h.instances()).toEqual([
        {
          instance_id: 'inst-a',
          host: 'host-a',
          pid: 101,
          state: 'serving',
          started_at: T0 - 1000,
          heartbeat_at: T1,
        },
      ]);
    });
  });
}
