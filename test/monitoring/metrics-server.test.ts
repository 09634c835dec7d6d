import { describe, expect, it } from 'vitest';
import { ServegraphMetrics } from '../../src/monitoring/metrics/registry.js';
import { call } from './metrics-fixtures.js';
import { bucketBounds, find, histogram, parseMetrics, value } from './metrics-text.js';

async function read(m: ServegraphMetrics) {
  return parseMetrics(await m.text());
}

describe('ServegraphMetrics: pools, steps, HTTP and the record buffer', () => {
  it('sets pool depth and workers by state, replacing earlier values', async () => {
    const m = new ServegraphMetrics({ graph: 'g' });
    m.setPool('runner/thread_pool', 'thread_pool', 5, 4, 0);
    m.setPool('runner/thread_pool', 'thread_pool', 1, 2, 2);
    const e = await read(m);
    const l = { graph: 'g', pool: 'runner/thread_pool', mechanism: 'thread_pool' };
    expect(value(e, 'servegraph_pool_queue_depth', l)).toBe(1);
    expect(value(e, 'servegraph_pool_workers', { ...l, state: 'busy' })).toBe(2);
    expect(value(e, 'servegraph_pool_workers', { ...l, state: 'idle' })).toBe(2);
  });

  it('observes step latency by step and kind', async () => {
    const m = new ServegraphMetrics({ graph: 'g' });
    m.observeStep('clean', 'MapStep', 0.002);
    m.observeStep('clean', 'MapStep', 0.003);
    m.observeStep('runner', 'ModelRunnerStep', 1.5);
    const e = await read(m);
    const clean = histogram(e, 'servegraph_step_latency_seconds', { graph: 'g', step: 'clean', kind: 'MapStep' });
    expect(clean.count).toBe(2);
    expect(clean.sum).toBeCloseTo(0.005, 12);
    expect(clean.buckets.get('0.0025')).toBe(1);
    expect(
      histogram(e, 'servegraph_step_latency_seconds', { graph: 'g', step: 'runner', kind: 'ModelRunnerStep' }).count,
    ).toBe(1);
  });

  it('counts HTTP requests by route, method and status, with their duration and those in flight', async () => {
    const m = new ServegraphMetrics({ graph: 'g' });
    m.httpStarted('/predict');
    m.httpStarted('/predict');
    m.httpStarted('other');
    m.httpEnded('/predict');
    m.observeHttp('/predict', 'POST', 200, 0.04);
    m.observeHttp('/predict', 'POST', 200, 0.06);
    m.observeHttp('/predict', 'POST', 400, 0.001);
    const e = await read(m);
    const http = (status: string) =>
      value(e, 'servegraph_http_requests_total', { route: '/predict', method: 'POST', status });
    expect([http('200'), http('400')]).toEqual([2, 1]);
    const d = histogram(e, 'servegraph_http_request_duration_seconds', { route: '/predict', method: 'POST' });
    expect(d.count).toBe(3);
    expect(d.sum).toBeCloseTo(0.101, 12);
    expect(value(e, 'servegraph_http_in_flight', { route: '/predict' })).toBe(1);
    expect(value(e, 'servegraph_http_in_flight', { route: 'other' })).toBe(1);
  });

  it('counts dropped records by reason from zero, and sets the buffer size', async () => {
    const m = new ServegraphMetrics({ graph: 'g' });
    let e = await read(m);
    for (const reason of ['buffer_full', 'store_error', 'shutdown', 'internal']) {
      expect(value(e, 'servegraph_monitoring_dropped_records_total', { reason })).toBe(0);
    }
    expect(value(e, 'servegraph_monitoring_buffer_records')).toBe(0);
    m.dropped('buffer_full');
    m.dropped('buffer_full');
    m.dropped('store_error', 250);
    m.dropped('shutdown', 3);
    m.setBuffer(42);
    e = await read(m);
    expect(value(e, 'servegraph_monitoring_dropped_records_total', { reason: 'buffer_full' })).toBe(2);
    expect(value(e, 'servegraph_monitoring_dropped_records_total', { reason: 'store_error' })).toBe(250);
    expect(value(e, 'servegraph_monitoring_dropped_records_total', { reason: 'shutdown' })).toBe(3);
    expect(value(e, 'servegraph_monitoring_dropped_records_total', { reason: 'internal' })).toBe(0);
    expect(value(e, 'servegraph_monitoring_buffer_records')).toBe(42);
  });

  it('keeps one endpoint_info series per endpoint, the latest', async () => {
    const m = new ServegraphMetrics({ graph: 'g' });
    const info = { step: 'runner', endpoint: 'finance', kind: 'model', modelClass: 'LLModel', mechanism: 'asyncio' };
    m.endpointInfo({ ...info, uid: 'a'.repeat(32), modelUrl: 'openai://gpt-4o-mini' });
    m.endpointInfo({ ...info, endpoint: 'legal', uid: 'c'.repeat(32), modelUrl: null });
    m.endpointInfo({ ...info, uid: 'b'.repeat(32), modelUrl: 'openai://gpt-4o' });
    const e = await read(m);
    const series = find(e, 'servegraph_endpoint_info');
    expect(series.map((s) => [s.labels.endpoint, s.labels.uid, s.labels.model_url, s.value])).toEqual([
      ['legal', 'c'.repeat(32), '', 1],
      ['finance', 'b'.repeat(32), 'openai://gpt-4o', 1],
    ]);
  });
});

describe('ServegraphMetrics: isolation, options and faults', () => {
  it('gives each instance its own registry', async () => {
    const a = new ServegraphMetrics({ graph: 'a' });
    const b = new ServegraphMetrics({ graph: 'b' });
    a.observeCall(call());
    a.observeCall(call());
    b.observeCall(call());
    const ea = await read(a);
    const eb = await read(b);
    expect(find(ea, 'servegraph_model_requests_total').map((s) => [s.labels.graph, s.value])).toEqual([['a', 2]]);
    expect(find(eb, 'servegraph_model_requests_total').map((s) => [s.labels.graph, s.value])).toEqual([['b', 1]]);
    expect(a.registry).not.toBe(b.registry);
  });

  it('replaces the model latency buckets with latencyBuckets, and those only', async () => {
    const m = new ServegraphMetrics({ graph: 'g', latencyBuckets: [0.1, 1, 10, 600] });
    m.observeCall(call({ latencyMs: 2000 }));
    m.observeStep('s', 'MapStep', 1);
    m.observeHttp('/predict', 'POST', 200, 1);
    const e = await read(m);
    expect(bucketBounds(e, 'servegraph_model_latency_seconds')).toEqual(['0.1', '1', '10', '600', '+Inf']);
    const defaults = '0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 30 60 120 300 +Inf';
    expect(bucketBounds(e, 'servegraph_step_latency_seconds').join(' ')).toBe(defaults);
    expect(bucketBounds(e, 'servegraph_http_request_duration_seconds').join(' ')).toBe(defaults);
    const h = histogram(e, 'servegraph_model_latency_seconds', {
      graph: 'g',
      step: 'runner',
      endpoint: 'finance',
      streamed: 'false',
    });
    expect([h.buckets.get('1'), h.buckets.get('10')]).toEqual([0, 1]);
  });

  it('rejects latencyBuckets that are not increasing positive numbers', () => {
    for (const bad of [[], [1, 0.5], [0, 1], [1, Number.NaN], ['1']]) {
      expect(() => new ServegraphMetrics({ graph: 'g', latencyBuckets: bad as number[] })).toThrow(
        expect.objectContaining({ code: 'SG_ERR_INVALID_OPTION' }),
      );
    }
  });

  it('never throws on garbage, and skips the values it cannot use', async () => {
    const faults: unknown[] = [];
    const m = new ServegraphMetrics({ graph: 'g', onFault: (err) => faults.push(err) });
    const junk = undefined as unknown as string;
    expect(() => {
      m.observeCall(
        call({ latencyMs: Number.NaN, batchSize: -2, queueMs: -1, streamed: true, ttfcMs: Number.POSITIVE_INFINITY }),
      );
      m.observeCall(
        call({ latencyMs: Number.NaN, promptTokens: Number.NaN, completionTokens: -3, batchSize: Number.NaN }),
      );
      m.observeCall(null as never);
      m.observeStep('s', 'MapStep', Number.NaN);
      m.observeHttp(junk, junk, Number.NaN, -1);
      m.setPool('p', 'thread_pool', Number.NaN, -1, Number.POSITIVE_INFINITY);
      m.dropped('store_error', Number.NaN);
      m.dropped('nonsense' as never);
      m.setBuffer(Number.NaN);
      m.endpointInfo(null as never);
      m.callStarted(junk, junk);
    }).not.toThrow();
    expect(faults.length).toBeGreaterThan(0);
    const e = await read(m);
    const EP = { graph: 'g', step: 'runner', endpoint: 'finance' };
    expect(value(e, 'servegraph_model_requests_total', { ...EP, outcome: 'ok' })).toBe(2);
    expect(find(e, 'servegraph_model_latency_seconds_count')).toHaveLength(0);
    expect(find(e, 'servegraph_model_queue_wait_seconds_count')).toHaveLength(0);
    expect(find(e, 'servegraph_model_time_to_first_chunk_seconds_count')).toHaveLength(0);
    expect(find(e, 'servegraph_model_tokens_total')).toHaveLength(0);
    expect(find(e, 'servegraph_model_batch_size_count')).toHaveLength(0);
    expect(find(e, 'servegraph_step_latency_seconds_count')).toHaveLength(0);
    expect(find(e, 'servegraph_pool_workers')).toHaveLength(0);
    expect(value(e, 'servegraph_monitoring_dropped_records_total', { reason: 'store_error' })).toBe(0);
    expect(value(e, 'servegraph_monitoring_dropped_records_total', { reason: 'internal' })).toBe(1);
    expect(value(e, 'servegraph_monitoring_buffer_records')).toBe(0);
    expect(value(e, 'servegraph_http_requests_total', { route: '', method: '', status: 'NaN' })).toBe(1);
  });

  it('survives a fault handler that throws', () => {
    const m = new ServegraphMetrics({
      graph: 'g',
      onFault: () => {
        throw new Error('handler');
      },
    });
    expect(() => m.observeCall(undefined as never)).not.toThrow();
  });
});
