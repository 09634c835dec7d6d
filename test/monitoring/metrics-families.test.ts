import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter, FastHistogram } from '../../src/monitoring/metrics/families.js';
import { ServegraphMetrics } from '../../src/monitoring/metrics/registry.js';
import { call } from './metrics-fixtures.js';
import { histogram, parseMetrics, value } from './metrics-text.js';

describe('lean counter and histogram families on a prom-client registry', () => {
  it('count an observation equal to a bound in that bucket (le is inclusive)', async () => {
    const register = new Registry();
    const h = new FastHistogram('h_seconds', 'h', ['a'], [0.1, 1], register);
    h.observe({ a: 'x' }, 0.1);
    h.observe({ a: 'x' }, 1);
    h.observe({ a: 'x' }, 2);
    const e = parseMetrics(await register.metrics());
    expect(e.types.get('h_seconds')).toBe('histogram');
    const s = histogram(e, 'h_seconds', { a: 'x' });
    expect([...s.buckets]).toEqual([
      ['0.1', 1],
      ['1', 2],
      ['+Inf', 3],
    ]);
    expect([s.count, s.sum]).toEqual([3, 3.1]);
  });

  it('show a series once updated, escape label values, and ignore negative or non-finite amounts', async () => {
    const register = new Registry();
    const c = new FastCounter('c_total', 'c', ['a'], register);
    c.child({ a: 'bound only' });
    c.inc({ a: 'say "hi"\n' }, 2);
    c.inc({ a: 'say "hi"\n' }, -1);
    c.inc({ a: 'say "hi"\n' }, Number.NaN);
    c.inc({ a: 'say "hi"\n' }, Number.POSITIVE_INFINITY);
    const text = await register.metrics();
    expect(text).toContain('c_total{a="say \\"hi\\"\\n"} 2');
    expect(text).not.toContain('bound only');
    expect(value(parseMetrics(text), 'c_total', { a: 'say "hi"\n' })).toBe(2);
  });

  it('serve getMetricsAsJSON like prom-client metrics', async () => {
    const m = new ServegraphMetrics({ graph: 'g' });
    m.observeCall(call());
    const json = await m.registry.getMetricsAsJSON();
    const req = json.find((x) => x.name === 'servegraph_model_requests_total');
    expect(req?.type).toBe('counter');
    expect(req?.values).toEqual([
      { value: 1, labels: { graph: 'g', step: 'runner', endpoint: 'finance', outcome: 'ok' } },
    ]);
    const lat = json.find((x) => x.name === 'servegraph_model_latency_seconds');
    expect(lat?.type).toBe('histogram');
    expect(lat?.values.at(-1)).toMatchObject({ metricName: 'servegraph_model_latency_seconds_count', value: 1 });
  });

  it('zero on registry.resetMetrics() and keep counting afterwards', async () => {
    const m = new ServegraphMetrics({ graph: 'g' });
    m.observeCall(call());
    m.observeCall(call());
    m.registry.resetMetrics();
    m.observeCall(call({ latencyMs: 20 }));
    const e = parseMetrics(await m.text());
    const EP = { graph: 'g', step: 'runner', endpoint: 'finance' };
    expect(value(e, 'servegraph_model_requests_total', { ...EP, outcome: 'ok' })).toBe(1);
    const h = histogram(e, 'servegraph_model_latency_seconds', { ...EP, streamed: 'false' });
    expect([h.count, h.sum, h.buckets.get('0.01'), h.buckets.get('0.025')]).toEqual([1, 0.02, 0, 1]);
  });
});
