import { describe, expect, it } from 'vitest';
import { everyMetric } from './metrics-fixtures.js';
import { bucketBounds, labelSets, parseMetrics } from './metrics-text.js';

/** monitoring.md section 9, as written there. */
const LATENCY = '0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 30 60 120 300';
const QUEUE = '0.0001 0.0005 0.001 0.005 0.01 0.05 0.1 0.5 1 5 10';
const FIRST_CHUNK = '0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 30';
const PER_TOKEN = '0.001 0.0025 0.005 0.01 0.02 0.04 0.08 0.16 0.32 0.64';
const BATCH = '1 2 4 8 16 32 64 128 256 512';

const M = 'graph, step, endpoint';
const TABLE: [name: string, type: string, labels: string, buckets?: string][] = [
  ['servegraph_model_requests_total', 'counter', `${M}, outcome`],
  ['servegraph_model_errors_total', 'counter', `${M}, code`],
  ['servegraph_model_latency_seconds', 'histogram', `${M}, streamed`, LATENCY],
  ['servegraph_model_queue_wait_seconds', 'histogram', `${M}, mechanism`, QUEUE],
  ['servegraph_model_time_to_first_chunk_seconds', 'histogram', M, FIRST_CHUNK],
  ['servegraph_model_time_per_output_token_seconds', 'histogram', M, PER_TOKEN],
  ['servegraph_model_tokens_total', 'counter', `${M}, type, estimated`],
  ['servegraph_model_in_flight', 'gauge', M],
  ['servegraph_model_batch_size', 'histogram', M, BATCH],
  ['servegraph_pool_queue_depth', 'gauge', 'graph, pool, mechanism'],
  ['servegraph_pool_workers', 'gauge', 'graph, pool, mechanism, state'],
  ['servegraph_step_latency_seconds', 'histogram', 'graph, step, kind', LATENCY],
  ['servegraph_http_requests_total', 'counter', 'route, method, status'],
  ['servegraph_http_request_duration_seconds', 'histogram', 'route, method', LATENCY],
  ['servegraph_http_in_flight', 'gauge', 'route'],
  ['servegraph_monitoring_dropped_records_total', 'counter', 'reason'],
  ['servegraph_monitoring_buffer_records', 'gauge', ''],
  ['servegraph_endpoint_info', 'gauge', `${M}, uid, kind, model_class, mechanism, model_url`],
];

const sorted = (labels: string): string => (labels === '' ? '' : labels.split(', ').sort().join(','));

const e = parseMetrics(await everyMetric().text());

describe('metrics of monitoring.md section 9', () => {
  it('lists exactly the servegraph metrics of the table', () => {
    const ours = [...e.types.keys()].filter((n) => n.startsWith('servegraph_')).sort();
    expect(ours).toEqual(TABLE.map(([n]) => n).sort());
  });

  it.each(TABLE)('%s is a %s with labels (%s)', (name, type, labels) => {
    expect(e.types.get(name)).toBe(type);
    expect(labelSets(e, name, type)).toEqual([sorted(labels)]);
  });

  it.each(TABLE.filter(([, type]) => type === 'histogram'))('%s has the listed buckets', (name, _t, _l, buckets) => {
    expect(bucketBounds(e, name)).toEqual([...buckets!.split(' '), '+Inf']);
  });

  it('gives the graph label the graph name and label values as strings', () => {
    const info = e.samples.find((s) => s.name === 'servegraph_endpoint_info');
    expect(info?.labels).toEqual({
      graph: 'support',
      step: 'runner',
      endpoint: 'finance',
      uid: '5b0e6f1c2a7d4e8f9a1b3c5d7e9f0a2b',
      kind: 'model',
      model_class: 'LLModel',
      mechanism: 'asyncio',
      model_url: 'openai://gpt-4o-mini',
    });
    expect(info?.value).toBe(1);
    for (const s of e.samples.filter((x) => x.name.startsWith('servegraph_model_'))) {
      expect(s.labels.graph).toBe('support');
    }
  });

  it('includes the default process metrics unprefixed', () => {
    expect(e.types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(e.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(e.types.has('process_resident_memory_bytes') || process.platform !== 'linux').toBe(true);
  });

  it('serves prom-client text format with its content type', () => {
    expect(everyMetric().contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
