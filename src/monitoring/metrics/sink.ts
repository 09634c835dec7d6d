import type { MetricsSink } from '../monitor.js';
import type { CallReport, EndpointDefinition, LiveMetrics } from '../types.js';
import type { ServegraphMetrics } from './registry.js';

/** Monitoring's reports as Prometheus observations (monitoring.md section 9). */
export class MetricsAdapter implements MetricsSink {
  constructor(readonly metrics: ServegraphMetrics) {}

  observeReport(r: CallReport, step: string, mechanism: string): void {
    const u = r.usage;
    this.metrics.observeCall({
      step,
      endpoint: r.endpoint,
      outcome: r.aborted ? 'aborted' : r.error ? 'error' : 'ok',
      errorCode: r.error?.code ?? null,
      latencyMs: r.latencyMs,
      queueMs: r.queueMs,
      mechanism,
      streamed: r.streamed === true,
      ttfcMs: r.ttfcMs ?? null,
      promptTokens: Number.isInteger(u?.prompt_tokens) ? (u!.prompt_tokens as number) : null,
      completionTokens: Number.isInteger(u?.completion_tokens) ? (u!.completion_tokens as number) : null,
      usageEstimated: u?.estimated === true,
      batchSize: r.batchSize,
      firstOfBatch: r.firstOfBatch !== false,
    });
  }

  dropped(reason: 'buffer_full' | 'store_error' | 'shutdown' | 'internal', n: number): void {
    this.metrics.dropped(reason, n);
  }

  setBuffer(n: number): void {
    this.metrics.setBuffer(n);
  }

  text(): Promise<string> {
    return this.metrics.text();
  }

  get live(): LiveMetrics {
    return this.metrics;
  }

  endpointInfo(def: EndpointDefinition, uid: string | null): void {
    this.metrics.endpointInfo({
      step: def.step,
      endpoint: def.name,
      uid: uid ?? '',
      kind: def.kind,
      modelClass: def.modelClass,
      mechanism: def.executionMechanism,
      modelUrl: def.artifact?.modelUrl ?? null,
    });
  }
}
