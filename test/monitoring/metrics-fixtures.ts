import { type CallObservation, ServegraphMetrics } from '../../src/monitoring/metrics/registry.js';

/** A successful, unstreamed call of `runner/finance`; `over` changes fields. */
export function call(over: Partial<CallObservation> = {}): CallObservation {
  return {
    step: 'runner',
    endpoint: 'finance',
    outcome: 'ok',
    errorCode: null,
    latencyMs: 10,
    queueMs: null,
    mechanism: 'asyncio',
    streamed: false,
    ttfcMs: null,
    promptTokens: null,
    completionTokens: null,
    usageEstimated: false,
    batchSize: 1,
    firstOfBatch: true,
    ...over,
  };
}

/** Metrics of graph `support` with one series of every metric of monitoring.md section 9. */
export function everyMetric(options: { latencyBuckets?: number[] } = {}): ServegraphMetrics {
  const m = new ServegraphMetrics({ graph: 'support', ...options });
  m.observeCall(
    call({ streamed: true, ttfcMs: 20, latencyMs: 120, queueMs: 2, promptTokens: 10, completionTokens: 11 }),
  );
  m.observeCall(call({ outcome: 'error', errorCode: 'SG_ERR_MODEL_FAILED' }));
  m.callStarted('runner', 'finance');
  m.setPool('runner/thread_pool', 'thread_pool', 3, 2, 1);
  m.observeStep('runner', 'ModelRunnerStep', 0.05);
  m.observeHttp('/predict', 'POST', 200, 0.2);
  m.httpStarted('/predict');
  m.dropped('buffer_full');
  m.setBuffer(4);
  m.endpointInfo({
    step: 'runner',
    endpoint: 'finance',
    uid: '5b0e6f1c2a7d4e8f9a1b3c5d7e9f0a2b',
    kind: 'model',
    modelClass: 'LLModel',
    mechanism: 'asyncio',
    modelUrl: 'openai://gpt-4o-mini',
  });
  return m;
}
