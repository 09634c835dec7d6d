import { Gauge, type Registry } from 'prom-client';
import {
  BATCH_SIZE_BUCKETS,
  FIRST_CHUNK_BUCKETS,
  LATENCY_BUCKETS,
  PER_TOKEN_BUCKETS,
  QUEUE_WAIT_BUCKETS,
} from './buckets.js';
import { FastCounter, FastGauge, FastHistogram } from './families.js';

/** The label names of an endpoint's series: `graph`, `step`, `endpoint`. */
const MODEL = ['graph', 'step', 'endpoint'] as const;
/** The label names of `servegraph_endpoint_info`. */
export const INFO_LABELS = [...MODEL, 'uid', 'kind', 'model_class', 'mechanism', 'model_url'] as const;

/** Every metric of monitoring.md section 9, registered on one registry. */
export type MetricSet = {
  modelRequests: FastCounter<'graph' | 'step' | 'endpoint' | 'outcome'>;
  modelErrors: FastCounter<'graph' | 'step' | 'endpoint' | 'code'>;
  modelLatency: FastHistogram<'graph' | 'step' | 'endpoint' | 'streamed'>;
  modelQueueWait: FastHistogram<'graph' | 'step' | 'endpoint' | 'mechanism'>;
  modelFirstChunk: FastHistogram<'graph' | 'step' | 'endpoint'>;
  modelPerToken: FastHistogram<'graph' | 'step' | 'endpoint'>;
  modelTokens: FastCounter<'graph' | 'step' | 'endpoint' | 'type' | 'estimated'>;
  modelInFlight: FastGauge<'graph' | 'step' | 'endpoint'>;
  modelBatchSize: FastHistogram<'graph' | 'step' | 'endpoint'>;
  poolQueueDepth: FastGauge<'graph' | 'pool' | 'mechanism'>;
  poolWorkers: FastGauge<'graph' | 'pool' | 'mechanism' | 'state'>;
  stepLatency: FastHistogram<'graph' | 'step' | 'kind'>;
  httpRequests: FastCounter<'route' | 'method' | 'status'>;
  httpDuration: FastHistogram<'route' | 'method'>;
  httpInFlight: Gauge<'route'>;
  droppedRecords: FastCounter<'reason'>;
  bufferRecords: FastGauge<never>;
  endpointInfo: Gauge<(typeof INFO_LABELS)[number]>;
};

/**
 * Creates the metrics of section 9 on `register` (never the global registry): those updated per call, event or
 * pool change as lean families (`families.ts`), the rest as prom-client's.
 */
export function createMetrics(register: Registry, latencyBuckets: readonly number[]): MetricSet {
  const registers = [register];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new FastCounter<L>(name, help, labelNames, register);
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({ name, help, labelNames, registers });
  const fastGauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new FastGauge<L>(name, help, labelNames, register);
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], b: readonly number[]) =>
    new FastHistogram<L>(name, help, labelNames, b, register);

  return {
    modelRequests: counter('servegraph_model_requests_total', 'Model calls by outcome.', [...MODEL, 'outcome']),
    modelErrors: counter('servegraph_model_errors_total', 'Model calls that failed, by SgError code.', [
      ...MODEL,
      'code',
    ]),
    modelLatency: histogram(
      'servegraph_model_latency_seconds',
      'Latency of successful model calls.',
      [...MODEL, 'streamed'],
      latencyBuckets,
    ),
    modelQueueWait: histogram(
      'servegraph_model_queue_wait_seconds',
      'Time model calls waited for a worker.',
      [...MODEL, 'mechanism'],
      QUEUE_WAIT_BUCKETS,
    ),
    modelFirstChunk: histogram(
      'servegraph_model_time_to_first_chunk_seconds',
      'Time to the first chunk of streamed model calls.',
      MODEL,
      FIRST_CHUNK_BUCKETS,
    ),
    modelPerToken: histogram(
      'servegraph_model_time_per_output_token_seconds',
      'Time per output token after the first, of streamed model calls.',
      MODEL,
      PER_TOKEN_BUCKETS,
    ),
    modelTokens: counter('servegraph_model_tokens_total', 'Prompt and completion tokens of model calls.', [
      ...MODEL,
      'type',
      'estimated',
    ]),
    modelInFlight: fastGauge('servegraph_model_in_flight', 'Model calls dispatched and not finished.', MODEL),
    modelBatchSize: histogram('servegraph_model_batch_size', 'Events per model call.', MODEL, BATCH_SIZE_BUCKETS),
    poolQueueDepth: fastGauge('servegraph_pool_queue_depth', 'Tasks waiting for a worker.', [
      'graph',
      'pool',
      'mechanism',
    ]),
    poolWorkers: fastGauge('servegraph_pool_workers', 'Pool workers by state.', [
      'graph',
      'pool',
      'mechanism',
      'state',
    ]),
    stepLatency: histogram(
      'servegraph_step_latency_seconds',
      'Time each step spends on an event.',
      ['graph', 'step', 'kind'],
      LATENCY_BUCKETS,
    ),
    httpRequests: counter('servegraph_http_requests_total', 'HTTP requests.', ['route', 'method', 'status']),
    httpDuration: histogram(
      'servegraph_http_request_duration_seconds',
      'HTTP request received to last byte sent.',
      ['route', 'method'],
      LATENCY_BUCKETS,
    ),
    httpInFlight: gauge('servegraph_http_in_flight', 'Open HTTP requests and streams.', ['route']),
    droppedRecords: counter('servegraph_monitoring_dropped_records_total', 'Call records dropped, by reason.', [
      'reason',
    ]),
    bufferRecords: fastGauge<never>('servegraph_monitoring_buffer_records', 'Call records waiting to be written.', []),
    endpointInfo: gauge('servegraph_endpoint_info', 'Model endpoints (always 1), labels to join on.', INFO_LABELS),
  };
}
