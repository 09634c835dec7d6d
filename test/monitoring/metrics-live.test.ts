// monitoring.md section 9, the series fed as things happen: servegraph_model_in_flight, servegraph_step_latency_seconds
// and servegraph_endpoint_info, read from the /metrics text (real HTTP where a client matters).
import http from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import {
  Batch,
  createGraph,
  createMockServer,
  Filter,
  type Graph,
  type HttpServer,
  MapStep,
  type MockServer,
  Model,
  type ModelCallContext,
  ModelRunnerStep,
} from '../../src/index.js';
import { ServegraphMetrics } from '../../src/monitoring/metrics/registry.js';
import { MetricsAdapter } from '../../src/monitoring/metrics/sink.js';
import { Monitor } from '../../src/monitoring/monitor.js';
import { resolveTracking } from '../../src/monitoring/tracking.js';
import type { EndpointDefinition } from '../../src/monitoring/types.js';
import { sleep, waitFor } from '../support/core.js';
import { type Exposition, find, histogram, parseMetrics, value } from './metrics-text.js';
import { calls, start, tempStore } from './monitor-fixtures.js';

const mocks: MockServer[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((s) => s.close({ graceMs: 0 }).catch(() => {})));
});

function mock(graph: Graph): MockServer {
  const s = createMockServer(graph, { logLevel: 'silent' });
  mocks.push(s);
  return s;
}

async function scrape(app: HttpServer): Promise<Exposition> {
  const r = await fetch(`${app.url}/metrics`);
  expect(r.status).toBe(200);
  return parseMetrics(await r.text());
}

const M = { graph: 'shop', step: 'runner', endpoint: 'm' };

describe('servegraph_model_in_flight', () => {
  test('rises while calls run and is back to 0 after successes and errors', async () => {
    const app = await start({ mechanism: 'asyncio' });
    const sent = calls(app, 3, (i) => (i === 2 ? { ms: 300, fail: 'boom' } : { ms: 300 }));
    let e = await scrape(app);
    for (let i = 0; i < 200 && value(e, 'servegraph_model_in_flight', M) !== 3; i++) {
      await sleep(5);
      e = await scrape(app);
    }
    expect(value(e, 'servegraph_model_in_flight', M)).toBe(3);
    expect(await sent).toEqual([200, 200, 200]); // raiseException: false
    e = await scrape(app);
    expect(value(e, 'servegraph_model_in_flight', M)).toBe(0);
    expect(value(e, 'servegraph_model_requests_total', { ...M, outcome: 'ok' })).toBe(2);
    expect(value(e, 'servegraph_model_requests_total', { ...M, outcome: 'error' })).toBe(1);
  });

  test('is back to 0 after a client that left (an aborted call)', async () => {
    const app = await start({ mechanism: 'asyncio' });
    const { hostname, port } = new URL(app.url);
    const req = http.request({ host: hostname, port, method: 'POST', path: '/', agent: false }, () => {});
    req.on('error', () => {});
    req.setHeader('content-type', 'application/json');
    req.end(JSON.stringify({ ms: 300 }));
    let e = await scrape(app);
    for (let i = 0; i < 200 && value(e, 'servegraph_model_in_flight', M) !== 1; i++) {
      await sleep(5);
      e = await scrape(app);
    }
    expect(value(e, 'servegraph_model_in_flight', M)).toBe(1);
    req.destroy();
    for (let i = 0; i < 400 && value(e, 'servegraph_model_requests_total', { ...M, outcome: 'aborted' }) !== 1; i++) {
      await sleep(5);
      e = await scrape(app);
    }
    expect(value(e, 'servegraph_model_requests_total', { ...M, outcome: 'aborted' })).toBe(1);
    expect(value(e, 'servegraph_model_in_flight', M)).toBe(0);
  });

  test('a batched model call is one call in flight, back to 0 once the batch is answered', async () => {
    let running = 0;
    let most = 0;
    class Doubles extends Model<number[], number[]> {
      override async predictAsync(input: number[], ctx: ModelCallContext) {
        most = Math.max(most, ++running);
        await sleep(100);
        running--;
        return ctx.batch ? input.map((x) => x * 2) : input;
      }
    }
    const g = createGraph({ name: 'batches' });
    const r = new ModelRunnerStep({ name: 'runner' });
    r.addModel({ endpointName: 'double', modelClass: Doubles, executionMechanism: 'asyncio' });
    g.to(new Batch({ name: 'batch', maxEvents: 4, flushAfterSeconds: 5 }))
      .to(r)
      .respond();
    const s = mock(g);
    await s.ready();
    const replies = Promise.all([1, 2, 3, 4].map((n) => s.test('/', n)));
    const l = { graph: 'batches', step: 'runner', endpoint: 'double' };
    await waitFor(() => running === 1);
    expect(value(parseMetrics(await s.monitoring.metricsText()), 'servegraph_model_in_flight', l)).toBe(1);
    expect(await replies).toEqual([2, 4, 6, 8]);
    const e = parseMetrics(await s.monitoring.metricsText());
    expect(value(e, 'servegraph_model_in_flight', l)).toBe(0);
    expect(value(e, 'servegraph_model_requests_total', { ...l, outcome: 'ok' })).toBe(4);
    expect(histogram(e, 'servegraph_model_batch_size', l).count).toBe(1);
    expect(most).toBe(1);
  });
});

/** Spins for `ms` on the event loop (a step that takes time without awaiting). */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

class Echo extends Model<unknown, unknown> {
  override predict(input: unknown) {
    return input;
  }
}

describe('servegraph_step_latency_seconds', () => {
  test('one observation per step and event, by step and kind; a step that hands on does not count the steps after it', async () => {
    const g = createGraph({ name: 'steps' });
    const r = new ModelRunnerStep({ name: 'runner' });
    r.addModel({ endpointName: 'echo', modelClass: Echo, executionMechanism: 'naive' });
    g.to(new MapStep({ name: 'clean', handler: (b: { n: number }) => b }))
      .to(
        new MapStep({
          name: 'heavy',
          handler: (b: { n: number }) => {
            spin(20);
            return b;
          },
        }),
      )
      .to(
        new MapStep({
          name: 'wait',
          handler: async (b: { n: number }) => {
            await sleep(30);
            return b;
          },
        }),
      )
      .to(new Filter({ name: 'even', handler: (b: { n: number }) => b.n % 2 === 0 }))
      .to(r)
      .respond();
    const s = mock(g);
    await Promise.all([0, 1, 2, 3].map((n) => s.test('/', { n })));
    const e = parseMetrics(await s.monitoring.metricsText());
    const step = (name: string, kind: string) =>
      histogram(e, 'servegraph_step_latency_seconds', { graph: 'steps', step: name, kind });
    const clean = step('clean', 'MapStep');
    const heavy = step('heavy', 'MapStep');
    const wait = step('wait', 'MapStep');
    expect([clean.count, heavy.count, wait.count, step('even', 'Filter').count]).toEqual([4, 4, 4, 4]);
    // the filter let the even ones through
    expect(step('runner', 'ModelRunnerStep').count).toBe(2);
    // 'clean' hands each event to 'heavy', which spins synchronously inside clean's emit: not clean's time
    expect(clean.sum!).toBeLessThan(heavy.sum! / 4);
    // a step that awaits keeps the event for at least its wait (a timer never fires early): causality, not speed
    expect(wait.sum! / 4).toBeGreaterThanOrEqual(0.025);
    expect(heavy.sum! / 4).toBeGreaterThanOrEqual(0.015);
  });

  test('a failing step is timed to its failure and its error handler is timed too', async () => {
    const g = createGraph({ name: 'steps' });
    const boom = g.to(
      new MapStep({
        name: 'boom',
        handler: () => {
          throw new Error('no');
        },
      }),
    );
    boom.errorHandler(new MapStep({ name: 'rescue', handler: () => ({ rescued: true }) }));
    boom.to(new MapStep({ name: 'after', handler: (b: unknown) => b })).respond();
    const s = mock(g);
    for (let i = 0; i < 3; i++) await s.test('/', {}).catch(() => {});
    const e = parseMetrics(await s.monitoring.metricsText());
    const count = (name: string) =>
      histogram(e, 'servegraph_step_latency_seconds', { graph: 'steps', step: name, kind: 'MapStep' }).count;
    expect([count('boom'), count('rescue')]).toEqual([3, 3]);
    expect(count('after')).toBeUndefined();
  });

  test('served over HTTP: /metrics shows every step of the graph', async () => {
    const app = await start({ mechanism: 'naive' });
    await calls(app, 5);
    const e = await scrape(app);
    expect(
      histogram(e, 'servegraph_step_latency_seconds', { graph: 'shop', step: 'runner', kind: 'ModelRunnerStep' }).count,
    ).toBe(5);
  });
});

describe('servegraph_endpoint_info', () => {
  test('one series per endpoint once it is registered, with the uid of its record', async () => {
    const app = await start({ mechanism: 'asyncio' }, { tracking: { store: tempStore().url } });
    const [rec] = await app.monitoring.listEndpoints();
    const e = await scrape(app);
    const infos = find(e, 'servegraph_endpoint_info');
    expect(infos).toHaveLength(1);
    expect(infos[0].labels).toEqual({
      graph: 'shop',
      step: 'runner',
      endpoint: 'm',
      uid: rec.uid,
      kind: 'model',
      model_class: rec.modelClass,
      mechanism: 'asyncio',
      model_url: '',
    });
    expect(infos[0].value).toBe(1);
  });

  test('tracking off: the series is there with an empty uid', async () => {
    const app = await start({}, { tracking: false });
    const infos = find(await scrape(app), 'servegraph_endpoint_info');
    expect(infos.map((s) => [s.labels.endpoint, s.labels.uid])).toEqual([['m', '']]);
  });

  test('registered again with a new record (archive): the series is replaced, not added', async () => {
    const { url } = tempStore();
    const metrics = new ServegraphMetrics({ graph: 'g' });
    const logger = { warn() {}, error() {} };
    const monitor = new Monitor(
      'g',
      resolveTracking({ store: url }, undefined, url),
      logger,
      () => new MetricsAdapter(metrics),
    );
    const def = (v: string): EndpointDefinition => ({
      name: 'finance',
      step: 'runner',
      kind: 'model',
      sharedModel: null,
      modelClass: 'LLModel',
      executionMechanism: 'asyncio',
      labels: { v },
      inputs: null,
      outputs: ['answer', 'usage'],
      artifact: { kind: 'llm-prompt', key: 'p', modelUrl: 'embedded://demo', path: null },
      creationStrategy: 'archive',
    });
    try {
      await monitor.registerEndpoints([def('1')]);
      const first = find(parseMetrics(await monitor.metricsText()), 'servegraph_endpoint_info');
      await monitor.registerEndpoints([def('2')]);
      const second = find(parseMetrics(await monitor.metricsText()), 'servegraph_endpoint_info');
      expect(first).toHaveLength(1);
      expect(second).toHaveLength(1);
      expect(first[0].labels.model_url).toBe('embedded://demo');
      expect(second[0].labels.uid).toMatch(/^[0-9a-f]{32}$/);
      expect(second[0].labels.uid).not.toBe(first[0].labels.uid);
    } finally {
      await monitor.close();
    }
  });
});
