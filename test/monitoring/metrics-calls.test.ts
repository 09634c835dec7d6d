import { describe, expect, it } from 'vitest';
import { ServegraphMetrics } from '../../src/monitoring/metrics/registry.js';
import { call } from './metrics-fixtures.js';
import { find, histogram, parseMetrics, value } from './metrics-text.js';

const EP = { graph: 'g', step: 'runner', endpoint: 'finance' };

async function read(m: ServegraphMetrics) {
  return parseMetrics(await m.text());
}

describe('ServegraphMetrics.observeCall', () => {
  it('counts ok calls and observes their latency in seconds, split by streamed', async () => {
    const m = new ServegraphMetrics({ graph: 'g' });
    for (let i = 0; i < 3; i++) m.observeCall(call());
    m.observeCall(call({ streamed: true, latencyMs: 250 }));
    const e = await read(m);
    expect(value(e, 'servegraph_model_requests_total', { ...EP, outcome: 'ok' })).toBe(4);
    const plain = histogram(e, 'servegraph_model_latency_seconds', { ...EP, streamed: 'false' });
    expect(plain.count).toBe(3);
    expect(plain.sum).toBeCloseTo(0.03, 12);
    expect(plain.buckets.get('0.005')).toBe(0);
    expect(plain.buckets.get('0.01')).toBe(3);
    expect(plain.buckets.get('+Inf')).toBe(3);
    const streamed = histogram(e, 'servegraph_model_latency_seconds', { ...EP, streamed: 'true' });
    expect(streamed.count).toBe(1);
    expect(streamed.sum).toBeCloseTo(0.25, 12);
    expect(streamed.buckets.get('0.1')).toBe(0);
    expect(streamed.buckets.get('0.25')).toBe(1);
  });

  it('counts errors by outcome and by code, aborted by outcome, and keeps both out of the latency', async () => {
    const m = new ServegraphMetrics({ graph: 'g' });
    m.observeCall(call({ outcome: 'error', errorCode: 'SG_ERR_MODEL_FAILED' }));
    m.observeCall(call({ outcome: 'error', errorCode: 'SG_ERR_MODEL_FAILED' }));
    m.observeCall(call({ outcome: 'error', errorCode: 'SG_ERR_PROVIDER_HTTP' }));
    m.observeCall(call({ outcome: 'error', errorCode: 'boom; not a code' }));
    m.observeCall(call({ outcome: 'aborted' }));
    const e = await read(m);
    expect(value(e, 'servegraph_model_requests_total', { ...EP, outcome: 'error' })).toBe(4);
    expect(value(e, 'servegraph_model_requests_total', { ...EP, outcome: 'aborted' })).toBe(1);
    expect(value(e, 'servegraph_model_requests_total', { ...EP, outcome: 'ok' })).toBeUndefined();
    expect(value(e, 'servegraph_model_errors_total', { ...EP, code: 'SG_ERR_MODEL_FAILED' })).toBe(2);
    expect(value(e, 'servegraph_model_errors_total', { ...EP, code: 'SG_ERR_PROVIDER_HTTP' })).toBe(1);
    expect(value(e, 'servegraph_model_errors_total', { ...EP, code: 'SG_ERR_INTERNAL' })).toBe(1);
    expect(find(e, 'servegraph_model_errors_total')).toHaveLength(3);
    expect(find(e, 'servegraph_model_latency_seconds_count')).toHaveLength(0);
  });

  it('observes the queue wait by mechanism, only when known', async () => {
    const m = new ServegraphMetrics({ graph: 'g' });
    m.observeCall(call({ queueMs: 3, mechanism: 'thread_pool' }));
    m.observeCall(
      call({ queueMs: 0.05, mechanism: 'thread_pool', outcome: 'error', errorCode: 'SG_ERR_MODEL_FAILED' }),
    );
    m.observeCall(call({ queueMs: null, mechanism: 'asyncio' }));
    const e = await read(m);
    const h = histogram(e, 'servegraph_model_queue_wait_seconds', { ...EP, mechanism: 'thread_pool' });
    expect(h.count).toBe(2);
    expect(h.sum).toBeCloseTo(0.00305, 12);
    expect(h.buckets.get('0.0001')).toBe(1);
    expect(h.buckets.get('0.005')).toBe(2);
    expect(find(e, 'servegraph_model_queue_wait_seconds_count', { mechanism: 'asyncio' })).toHaveLength(0);
  });

  it('observes time to first chunk and time per output token of streamed calls', async () => {
    const m = new ServegraphMetrics({ graph: 'g' });
    // (1020 − 20) / (101 − 1) = 10 ms per token
    m.observeCall(call({ streamed: true, latencyMs: 1020, ttfcMs: 20, completionTokens: 101 }));
    // (300 − 100) / (5 − 1) = 50 ms per token
    m.observeCall(call({ streamed: true, latencyMs: 300, ttfcMs: 100, completionTokens: 5 }));
    // one completion token: first chunk only
    m.observeCall(call({ streamed: true, latencyMs: 300, ttfcMs: 40, completionTokens: 1 }));
    // not streamed: neither
    m.observeCall(call({ streamed: false, latencyMs: 300, ttfcMs: 40, completionTokens: 50 }));
    // streamed without a first chunk: neither
    m.observeCall(call({ streamed: true, latencyMs: 300, ttfcMs: null, completionTokens: 50 }));
    const e = await read(m);
    const ttfc = histogram(e, 'servegraph_model_time_to_first_chunk_seconds', EP);
    expect(ttfc.count).toBe(3);
    expect(ttfc.sum).toBeCloseTo(0.16, 12);
    expect(ttfc.buckets.get('0.025')).toBe(1);
    expect(ttfc.buckets.get('0.05')).toBe(2);
    expect(ttfc.buckets.get('0.1')).toBe(3);
    const tpot = histogram(e, 'servegraph_model_time_per_output_token_seconds', EP);
    expect(tpot.count).toBe(2);
    expect(tpot.sum).toBeCloseTo(0.06, 12);
    expect(tpot.buckets.get('0.005')).toBe(0);
    expect(tpot.buckets.get('0.01')).toBe(1);
    expect(tpot.buckets.get('0.04')).toBe(1);
    expect(tpot.buckets.get('0.08')).toBe(2);
  });

  it('counts prompt and completion tokens, marking estimated ones', async () => {
    const m = new ServegraphMetrics({ graph: 'g' });
    m.observeCall(call({ promptTokens: 10, completionTokens: 5 }));
    m.observeCall(call({ promptTokens: 7, completionTokens: 3 }));
    m.observeCall(call({ promptTokens: 100, completionTokens: 40, usageEstimated: true }));
    m.observeCall(call({ promptTokens: null, completionTokens: null }));
    const e = await read(m);
    const tokens = (type: string, estimated: string) =>
      value(e, 'servegraph_model_tokens_total', { ...EP, type, estimated });
    expect(tokens('prompt', 'false')).toBe(17);
    expect(tokens('completion', 'false')).toBe(8);
    expect(tokens('prompt', 'true')).toBe(100);
    expect(tokens('completion', 'true')).toBe(40);
  });

  it('observes the batch size once per model call, and counts every member', async () => {
    const m = new ServegraphMetrics({ graph: 'g' });
    for (let i = 0; i < 4; i++) m.observeCall(call({ batchSize: 4, firstOfBatch: i === 0 }));
    m.observeCall(call({ batchSize: 1, firstOfBatch: true }));
    const e = await read(m);
    expect(value(e, 'servegraph_model_requests_total', { ...EP, outcome: 'ok' })).toBe(5);
    const h = histogram(e, 'servegraph_model_batch_size', EP);
    expect(h.count).toBe(2);
    expect(h.sum).toBe(5);
    expect(h.buckets.get('1')).toBe(1);
    expect(h.buckets.get('2')).toBe(1);
    expect(h.buckets.get('4')).toBe(2);
  });

  it('keeps endpoints apart', async () => {
    const m = new ServegraphMetrics({ graph: 'g' });
    m.observeCall(call({ endpoint: 'a' }));
    m.observeCall(call({ endpoint: 'b' }));
    m.observeCall(call({ endpoint: 'b' }));
    m.observeCall(call({ step: 'other', endpoint: 'b' }));
    const e = await read(m);
    const ok = (step: string, endpoint: string) =>
      value(e, 'servegraph_model_requests_total', { graph: 'g', step, endpoint, outcome: 'ok' });
    expect([ok('runner', 'a'), ok('runner', 'b'), ok('other', 'b')]).toEqual([1, 2, 1]);
  });

  it('tracks calls in flight', async () => {
    const m = new ServegraphMetrics({ graph: 'g' });
    m.callStarted('runner', 'finance');
    m.callStarted('runner', 'finance');
    m.callStarted('runner', 'finance');
    m.callEnded('runner', 'finance');
    expect(value(await read(m), 'servegraph_model_in_flight', EP)).toBe(2);
    m.callEnded('runner', 'finance');
    m.callEnded('runner', 'finance');
    expect(value(await read(m), 'servegraph_model_in_flight', EP)).toBe(0);
  });
});
