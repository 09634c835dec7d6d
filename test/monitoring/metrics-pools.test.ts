// monitoring.md section 9 (servegraph_pool_queue_depth, servegraph_pool_workers, servegraph_model_queue_wait_seconds)
// and section 4 (`queueMs`) with real worker pools of every kind, pool names as model-runner.md section 8 gives them.
// Needs `npm run build` (the fixture models import 'servegraph' and the workers run dist/).
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createGraph, createMockServer, type Graph, type MockServer, ModelRunnerStep } from '../../src/index.js';
import { sleep } from '../support/core.js';
import { type Exposition, histogram, parseMetrics, value } from './metrics-text.js';

/** Sleeps `{ ms }` in predict, on whichever mechanism runs it. */
const WHERE = `${join(import.meta.dirname, '..', 'fixtures', 'models', 'runner-models.mjs')}#Where`;

const servers: MockServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 0 }).catch(() => {})));
});

function mock(graph: Graph): MockServer {
  const s = createMockServer(graph, { logLevel: 'silent' });
  servers.push(s);
  return s;
}

async function metrics(s: MockServer): Promise<Exposition> {
  return parseMetrics(await s.monitoring.metricsText());
}

type Mechanism = 'thread_pool' | 'process_pool' | 'dedicated_process';

/** Graph `pools`: runner `runner` with endpoint `m` on `mechanism`, in a pool of one worker. */
function onePool(mechanism: Mechanism): Graph {
  const g = createGraph({ name: 'pools' });
  const r = new ModelRunnerStep({ name: 'runner' });
  r.addModel({ endpointName: 'm', modelClass: WHERE, executionMechanism: mechanism });
  r.configurePoolResource({ maxThreads: 1, maxProcesses: 1 });
  g.to(r).respond();
  return g;
}

/** The pool gauges of `pool` as [queue depth, busy, idle]. */
function poolState(e: Exposition, pool: string, mechanism: string): (number | undefined)[] {
  const l = { graph: 'pools', pool, mechanism };
  return [
    value(e, 'servegraph_pool_queue_depth', l),
    value(e, 'servegraph_pool_workers', { ...l, state: 'busy' }),
    value(e, 'servegraph_pool_workers', { ...l, state: 'idle' }),
  ];
}

/** `read()` again until `ok` holds (or `seconds` pass); the last value read. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, seconds = 10): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > end) return v;
    await sleep(5);
  }
}

/** Three calls at once on one worker: one runs, two wait; afterwards none waits and the worker is idle. */
async function queueOfThree(s: MockServer, pool: string, mechanism: string): Promise<void> {
  await s.ready();
  expect(poolState(await metrics(s), pool, mechanism)).toEqual([0, 0, 1]);
  const calls = [1, 2, 3].map((i) => s.test('/', { ms: 300 }, { id: `e${i}` }));
  const state = () => metrics(s).then((e) => poolState(e, pool, mechanism));
  expect(await until(state, (v) => v[0] === 2)).toEqual([2, 1, 0]);
  expect(await until(state, (v) => v[0] === 1)).toEqual([1, 1, 0]);
  await Promise.all(calls);
  expect(await state()).toEqual([0, 0, 1]);
}

describe('pool gauges by pool name and mechanism', () => {
  test.each([
    ['thread_pool', 'runner/thread_pool'],
    ['process_pool', 'runner/process_pool'],
    ['dedicated_process', 'runner/m'],
  ] as const)('%s: pool %s shows the calls waiting, the worker busy, then idle', async (mechanism, pool) => {
    await queueOfThree(mock(onePool(mechanism)), pool, mechanism);
  });

  test('a shared thread_pool model: pool shared/thread_pool, the calls recorded under the proxy', async () => {
    const g = createGraph({ name: 'pools' });
    g.addSharedModel({ name: 'llm', modelClass: WHERE, executionMechanism: 'thread_pool' });
    g.configureSharedPoolResource({ maxThreads: 1 });
    const r = new ModelRunnerStep({ name: 'runner' });
    r.addSharedModelProxy({ endpointName: 'ask', sharedModelName: 'llm' });
    g.to(r).respond();
    const s = mock(g);
    await queueOfThree(s, 'shared/thread_pool', 'thread_pool');
    const e = await metrics(s);
    expect(
      histogram(e, 'servegraph_model_queue_wait_seconds', {
        graph: 'pools',
        step: 'runner',
        endpoint: 'ask',
        mechanism: 'thread_pool',
      }).count,
    ).toBe(3);
  });
});

describe('queueMs of pool mechanisms (monitoring.md section 4)', () => {
  test.each(['thread_pool', 'process_pool', 'dedicated_process'] as const)(
    '%s, one worker, two calls: the second waits about as long as the first runs',
    async (mechanism) => {
      const s = mock(onePool(mechanism));
      await s.ready();
      // the first takes the worker as it is sent; the second waits in the queue
      const first = s.test('/', { ms: 300 }, { id: 'first' });
      const second = s.test('/', { ms: 10 }, { id: 'second' });
      await Promise.all([first, second]);
      await s.monitoring.flush();
      const rec = new Map((await s.monitoring.calls('m')).map((c) => [c.eventId, c]));
      const a = rec.get('first')!;
      const b = rec.get('second')!;
      expect(typeof a.queueMs).toBe('number');
      expect(typeof b.queueMs).toBe('number');
      // causality: the second could start only once the first had run (most of) its 300 ms
      expect(b.queueMs!).toBeGreaterThanOrEqual(a.latencyMs * 0.5);
      expect(b.queueMs!).toBeGreaterThan(a.queueMs!);
      expect(b.latencyMs).toBeGreaterThan(b.queueMs!);
      const wait = histogram(await metrics(s), 'servegraph_model_queue_wait_seconds', {
        graph: 'pools',
        step: 'runner',
        endpoint: 'm',
        mechanism,
      });
      expect(wait.count).toBe(2);
      // the histogram's sum is the records' queueMs, in seconds (rounded to 0.1 ms in the store)
      expect(wait.sum! * 1000).toBeCloseTo(a.queueMs! + b.queueMs!, 0);
    },
  );

  test('naive calls have no queueMs and observe no queue wait; asyncio ones do', async () => {
    const g = createGraph({ name: 'pools' });
    const r = new ModelRunnerStep({ name: 'runner' });
    r.addModel({ endpointName: 'n', modelClass: WHERE, executionMechanism: 'naive' });
    r.addModel({ endpointName: 'a', modelClass: WHERE, executionMechanism: 'asyncio' });
    g.to(r).respond();
    const s = mock(g);
    await s.test('/', { ms: 1 });
    await s.monitoring.flush();
    expect((await s.monitoring.calls('n'))[0].queueMs).toBeNull();
    expect(typeof (await s.monitoring.calls('a'))[0].queueMs).toBe('number');
    const e = await metrics(s);
    const l = { graph: 'pools', step: 'runner' };
    expect(histogram(e, 'servegraph_model_queue_wait_seconds', { ...l, endpoint: 'n', mechanism: 'naive' }).count).toBe(
      undefined,
    );
    expect(
      histogram(e, 'servegraph_model_queue_wait_seconds', { ...l, endpoint: 'a', mechanism: 'asyncio' }).count,
    ).toBe(1);
  });
});
