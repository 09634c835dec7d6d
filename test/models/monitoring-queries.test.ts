import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { type CallRecord, createGraph, MapStep, Model, ModelArtifact, ModelSelector } from '../../src/index.js';
import { ref, rejectsSg, runnerGraph, serve, sleep, waitFor } from './helpers.js';
import { ENDPOINT_FIELDS, ISO, monitored, readStore, Scripted } from './monitoring-fixtures.js';

describe('endpoint records and stats', () => {
  test('getEndpoint: the fields of monitoring.md section 1', async () => {
    const s = monitored();
    await s.ready();
    const e = await s.monitoring.getEndpoint('scripted');
    expect(Object.keys(e).sort()).toEqual(ENDPOINT_FIELDS);
    expect(e.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(e.definitionHash).toMatch(/^[0-9a-f]{64}$/);
    expect(e).toMatchObject({
      graph: 'shop',
      name: 'scripted',
      step: 'runner',
      kind: 'model',
      sharedModel: null,
      modelClass: 'Scripted',
      executionMechanism: 'asyncio',
      labels: { eu: '', tier: 'gold' },
      inputs: null,
      outputs: null,
      artifact: { kind: 'model', key: 'scripted-v1', modelUrl: null, path: null },
      creationStrategy: 'inplace',
      tag: 'latest',
      state: 'serving',
      error: null,
      instances: 1,
      firstRequestAt: null,
      lastRequestAt: null,
    });
    expect(e.createdAt).toMatch(ISO);
    expect(e.updatedAt).toMatch(ISO);
    expect((await s.monitoring.getEndpoint('pooled')).modelClass).toBe(ref('AddN'));
    await s.test('/', { in: {}, n: 1 });
    await s.test('/', { in: {}, n: 2 });
    const after = await s.monitoring.getEndpoint('scripted');
    expect(after.firstRequestAt).toMatch(ISO);
    expect(Date.parse(after.lastRequestAt!)).toBeGreaterThanOrEqual(Date.parse(after.firstRequestAt!));
    expect(after.uid).toBe(e.uid);
  });

  test("inputs and outputs default to the artifact's", async () => {
    const art = new ModelArtifact({ key: 'schema', inputs: ['age', 'income'], outputs: ['score'] });
    const { graph } = runnerGraph((r) => {
      r.addModel({
        endpointName: 'from-artifact',
        modelClass: Scripted,
        executionMechanism: 'naive',
        modelArtifact: art,
      });
      r.addModel({
        endpointName: 'given',
        modelClass: Scripted,
        executionMechanism: 'naive',
        modelArtifact: art,
        inputs: ['x'],
        outputs: ['y'],
      });
    });
    const s = serve(graph);
    await s.ready();
    expect(await s.monitoring.getEndpoint('from-artifact')).toMatchObject({
      inputs: ['age', 'income'],
      outputs: ['score'],
    });
    expect(await s.monitoring.getEndpoint('given')).toMatchObject({ inputs: ['x'], outputs: ['y'] });
  });

  test('listEndpoints: every endpoint sorted by name, each with stats; [] for a graph without endpoints', async () => {
    const s = monitored({ name: 'default-name-check' });
    await s.test('/', { in: { v: 1 }, n: 1 });
    await sleep(5);
    const list = await s.monitoring.listEndpoints({ window: '1h' });
    expect(list.map((e) => e.name)).toEqual(['naive', 'pooled', 'scripted']);
    for (const e of list) {
      expect(Object.keys(e).sort()).toEqual([...ENDPOINT_FIELDS, 'stats'].sort());
      expect(e.stats).toMatchObject({ endpoint: e.name, window: '1h', count: 1 });
    }
    const plain = createGraph();
    plain.to(new MapStep({ name: 'm', handler: (x: unknown) => x })).respond();
    expect(await serve(plain).monitoring.listEndpoints()).toEqual([]);
    const unnamed = serve(
      runnerGraph((r) => r.addModel({ endpointName: 'x', modelClass: Scripted, executionMechanism: 'naive' })).graph,
    );
    await unnamed.ready();
    expect((await unnamed.monitoring.getEndpoint('x')).graph).toBe('default');
  });

  test('stats(): the figures of monitoring.md section 8', async () => {
    const s = monitored();
    const bodies = [
      { v: 1 },
      { v: 2 },
      { fail: 'a' },
      { fail: 'b' },
      { v: 3, usage: [{ prompt_tokens: 2, completion_tokens: 3 }] },
    ];
    for (const b of bodies) await s.test('/', { in: b, n: 0 });
    await sleep(5); // a window ends just before now (monitoring.md section 8)
    const st = await s.monitoring.stats('scripted', { window: '5m' });
    const uid = (await s.monitoring.getEndpoint('scripted')).uid;
    expect(st).toMatchObject({
      endpoint: 'scripted',
      uid,
      window: '5m',
      count: 5,
      errors: 2,
      aborted: 0,
      errorRate: 0.4,
      errorsByCode: { SG_ERR_MODEL_FAILED: 2 },
      ttfcMs: null,
      streamed: 0,
    });
    expect(st.tokens).toEqual({ prompt: 2, completion: 3, total: 5, estimated: false });
    expect(Date.parse(st.to) - Date.parse(st.from)).toBe(5 * 60_000);
    for (const k of ['p50', 'p95', 'p99', 'mean', 'max'] as const) expect(typeof st.latencyMs[k]).toBe('number');
    expect(st.latencyMs.max!).toBeGreaterThanOrEqual(st.latencyMs.p50!);
    expect(st.lastRequestAt).toBe((await s.monitoring.getEndpoint('scripted')).lastRequestAt);
    expect((await s.monitoring.stats('scripted', { uid: uid!, window: '5m' })).count).toBe(5);
    await rejectsSg(s.monitoring.stats('scripted', { uid: 'not-a-uid' }), 'SG_ERR_MONITOR_QUERY');
    await rejectsSg(s.monitoring.stats('scripted', { uid: 'f'.repeat(32) }), 'SG_ERR_ENDPOINT_NOT_FOUND');
    const empty = await s.monitoring.stats('naive', { window: '10s' });
    expect(empty.count).toBe(5);
    const none = monitored();
    await none.ready();
    expect(await none.monitoring.stats('scripted')).toMatchObject({
      count: 0,
      errorRate: null,
      latencyMs: { p50: null, p95: null, p99: null, mean: null, max: null },
      window: '15m',
    });
  });

  test('tracking off: calls and stats are SG_ERR_TRACKING_DISABLED; endpoints are described without records', async () => {
    for (const make of [
      () => monitored({ tracking: false }),
      () => {
        const { graph } = runnerGraph((r) =>
          r.addModel({ endpointName: 'scripted', modelClass: Scripted, executionMechanism: 'asyncio' }),
        );
        graph.setTracking({ enabled: false });
        return serve(graph);
      },
    ]) {
      const s = make();
      expect(await s.test('/', { in: { v: 1 }, n: 1 })).toBeDefined();
      await rejectsSg(s.monitoring.calls('scripted'), 'SG_ERR_TRACKING_DISABLED');
      await rejectsSg(s.monitoring.stats('scripted'), 'SG_ERR_TRACKING_DISABLED');
      const list = await s.monitoring.listEndpoints();
      const e = list.find((x) => x.name === 'scripted')!;
      expect(e).toMatchObject({
        uid: null,
        tag: null,
        createdAt: null,
        updatedAt: null,
        firstRequestAt: null,
        lastRequestAt: null,
        stats: null,
        name: 'scripted',
        step: 'runner',
      });
    }
  });

  test('state: loading while models load, serving, error with the load error, stopped after close', async () => {
    class SlowLoad extends Model {
      override async load() {
        await sleep(300);
      }
      override predict() {
        return 1;
      }
    }
    const { graph } = runnerGraph((r) =>
      r.addModel({ endpointName: 'slow', modelClass: SlowLoad, executionMechanism: 'naive' }),
    );
    const file = `sqlite:${join(mkdtempSync(join(tmpdir(), 'sg-mon-')), 'state.db')}`;
    const s = serve(graph, { tracking: { store: file } });
    let seen: string | undefined;
    await waitFor(() => {
      void s.monitoring.getEndpoint('slow').then(
        (e) => (seen ??= e.state),
        () => {},
      );
      return seen !== undefined;
    }, 5);
    expect(seen).toBe('loading');
    await s.ready();
    expect(await s.monitoring.getEndpoint('slow')).toMatchObject({ state: 'serving', instances: 1, error: null });
    await s.close();
    // the server's store is closed with it: read the file as the CLI does
    const [after] = await readStore(file, (st) => st.listEndpoints({ all: false, now: Date.now() }));
    expect(after).toMatchObject({ name: 'slow', state: 'stopped', instances: 0 });

    const failing = serve(
      runnerGraph((r) =>
        r.addModel({ endpointName: 'bad', modelClass: ref('LoadFails'), executionMechanism: 'thread_pool' }),
      ).graph,
    );
    await rejectsSg(failing.ready(), 'SG_ERR_MODEL_LOAD');
    const bad = await failing.monitoring.getEndpoint('bad');
    expect(bad.state).toBe('error');
    expect(bad.error).toContain('no weights');
  });

  test('a path that does not fit the body is that call failure; a failed selection leaves no record', async () => {
    const s = monitored();
    await s.test('/', 5); // inputPath on a number: every call fails with SG_ERR_PATH_TARGET
    const calls: CallRecord[] = await s.monitoring.calls('scripted');
    expect(calls.map((c) => c.errorCode)).toEqual(['SG_ERR_PATH_TARGET']);
    const { graph } = runnerGraph(
      (r) => r.addModel({ endpointName: 'm', modelClass: Scripted, executionMechanism: 'naive' }),
      {
        modelSelector: new (class extends ModelSelector {
          override select(): string[] {
            return ['nope'];
          }
        })(),
      },
    );
    const sel = serve(graph);
    await rejectsSg(sel.test('/', {}), 'SG_ERR_UNKNOWN_MODEL');
    expect(await sel.monitoring.calls('m')).toEqual([]);
  });
});
