// The bounded buffer and the writer (monitoring.md section 5), tracking off (section 3), inputs/outputs (section 4).
import { existsSync, readdirSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { createMockServer, type MockServer, type MockServerOptions } from '../../src/index.js';
import { rejectsSg } from '../support/core.js';
import { parseMetrics, value } from './metrics-text.js';
import { calls, graphOf, start, tempDir } from './monitor-fixtures.js';

const mocks: MockServer[] = [];
function mock(options: MockServerOptions = {}, mechanism: 'naive' | 'asyncio' = 'naive'): MockServer {
  const s = createMockServer(graphOf({ mechanism }), { logLevel: 'silent', ...options });
  mocks.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((s) => s.close({ graceMs: 0 }).catch(() => {})));
});

const L = { graph: 'shop', step: 'runner', endpoint: 'm' };

describe('bounded buffer', () => {
  test('bufferSize 5 and 20 quick calls: all answer, 15 dropped as buffer_full, metrics count all 20', async () => {
    const app = await start({}, { tracking: { bufferSize: 5, flushIntervalMs: 10_000, flushBatchSize: 1000 } });
    expect(await calls(app, 20)).toEqual(new Array(20).fill(200));
    const e = parseMetrics(await app.monitoring.metricsText());
    expect(value(e, 'servegraph_monitoring_dropped_records_total', { reason: 'buffer_full' })).toBe(15);
    expect(value(e, 'servegraph_model_requests_total', { ...L, outcome: 'ok' })).toBe(20);
    expect(value(e, 'servegraph_monitoring_buffer_records')).toBe(5);
    expect(app.monitoring.dropped).toEqual({ buffer_full: 15, store_error: 0, shutdown: 0, internal: 0 });
    await app.monitoring.flush();
    expect((await app.monitoring.stats('m', { window: '1m' })).count).toBe(5);
  });

  test('1,000 concurrent calls with default options: all recorded (or counted as dropped)', async () => {
    const s = mock();
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => s.test('/', { v: i })));
    expect(results).toHaveLength(1000);
    await s.monitoring.flush();
    const count = (await s.monitoring.stats('m', { window: '1m' })).count;
    const e = parseMetrics(await s.monitoring.metricsText());
    const dropped = value(e, 'servegraph_monitoring_dropped_records_total', { reason: 'buffer_full' }) ?? 0;
    expect(count + dropped).toBe(1000);
    expect(count).toBe(1000);
    expect(value(e, 'servegraph_model_requests_total', { ...L, outcome: 'ok' })).toBe(1000);
  });
});

describe('tracking off', () => {
  test('no store file; definitions listed with null uid and stats; queries reject; metrics count', async () => {
    const dir = tempDir();
    const app = await start({}, { tracking: { enabled: false, store: `sqlite:${dir}/off.db` } });
    expect(await calls(app, 3)).toEqual([200, 200, 200]);
    expect(readdirSync(dir)).toEqual([]);
    expect(app.monitoring.trackingState).toBe('off');
    const list = await app.monitoring.listEndpoints();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      name: 'm',
      graph: 'shop',
      step: 'runner',
      uid: null,
      tag: null,
      createdAt: null,
      updatedAt: null,
      firstRequestAt: null,
      lastRequestAt: null,
      stats: null,
    });
    await rejectsSg(app.monitoring.stats('m'), 'SG_ERR_TRACKING_DISABLED');
    await rejectsSg(app.monitoring.series('m'), 'SG_ERR_TRACKING_DISABLED');
    await rejectsSg(app.monitoring.calls('m'), 'SG_ERR_TRACKING_DISABLED');
    const e = parseMetrics(await app.monitoring.metricsText());
    expect(value(e, 'servegraph_model_requests_total', { ...L, outcome: 'ok' })).toBe(3);
    expect(((await (await fetch(`${app.url}/healthz`)).json()) as { tracking: string }).tracking).toBe('off');
  });

  test('tracking: false writes no servegraph.db in the working folder', async () => {
    const before = existsSync('servegraph.db');
    const app = await start({}, { tracking: false });
    await calls(app, 2);
    await app.monitoring.flush();
    expect(existsSync('servegraph.db')).toBe(before);
    expect((await app.monitoring.listEndpoints())[0]).toMatchObject({ uid: null, stats: null });
  });
});

describe('inputs and outputs', () => {
  test('ioSampleRate 1 keeps every input and output; 0 keeps none', async () => {
    const all = mock({ tracking: { recordIo: true, ioSampleRate: 1 } });
    const none = mock({ tracking: { recordIo: true, ioSampleRate: 0 } });
    for (let i = 0; i < 5; i++) {
      await all.test('/', { v: i }, { id: `a${i}` });
      await none.test('/', { v: i }, { id: `a${i}` });
    }
    const kept = await all.monitoring.calls('m');
    expect(kept).toHaveLength(5);
    expect(kept.map((c) => c.inputs)).toEqual([4, 3, 2, 1, 0].map((v) => ({ v })));
    expect(kept[0].outputs).toEqual({ ok: true, echo: 4 });
    const dropped = await none.monitoring.calls('m');
    expect(dropped).toHaveLength(5);
    expect(dropped.every((c) => c.inputs === null && c.outputs === null)).toBe(true);
  });

  test('JSON over maxIoBytes is stored as {truncated, bytes, preview}', async () => {
    const s = mock({ tracking: { recordIo: true, maxIoBytes: 100 } });
    const big = { v: 'x'.repeat(2000) };
    await s.test('/', big, { id: 'big' });
    await s.test('/', { v: 1 }, { id: 'small' });
    const [small, large] = await s.monitoring.calls('m');
    expect(small.inputs).toEqual({ v: 1 });
    const json = JSON.stringify(big);
    expect(large.inputs).toEqual({ truncated: true, bytes: Buffer.byteLength(json), preview: json.slice(0, 1024) });
    expect(large.outputs).toMatchObject({ truncated: true });
  });
});
