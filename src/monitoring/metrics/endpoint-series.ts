import type { MetricSet } from './definitions.js';
import type { CounterSeries, GaugeSeries, HistogramSeries } from './families.js';

/**
 * The series of one endpoint, bound once to their labels so that recording a call does no label
 * validation or object building. Binding creates nothing: a series appears when first updated.
 */
export class EndpointSeries {
  readonly requests: { ok: CounterSeries; error: CounterSeries; aborted: CounterSeries };
  readonly latency: { true: HistogramSeries; false: HistogramSeries };
  readonly firstChunk: HistogramSeries;
  readonly perToken: HistogramSeries;
  /** By type, then by estimated. */
  readonly tokens: Record<'prompt' | 'completion', { true: CounterSeries; false: CounterSeries }>;
  readonly inFlight: GaugeSeries;
  readonly batchSize: HistogramSeries;
  private readonly errors = new Map<string, CounterSeries>();
  private readonly queueWait = new Map<string, HistogramSeries>();
  private readonly labels: { graph: string; step: string; endpoint: string };

  constructor(
    private readonly m: MetricSet,
    graph: string,
    step: string,
    endpoint: string,
  ) {
    const l = { graph, step, endpoint };
    this.labels = l;
    this.requests = {
      ok: m.modelRequests.child({ ...l, outcome: 'ok' }),
      error: m.modelRequests.child({ ...l, outcome: 'error' }),
      aborted: m.modelRequests.child({ ...l, outcome: 'aborted' }),
    };
    this.latency = {
      true: m.modelLatency.child({ ...l, streamed: 'true' }),
      false: m.modelLatency.child({ ...l, streamed: 'false' }),
    };
    this.firstChunk = m.modelFirstChunk.child(l);
    this.perToken = m.modelPerToken.child(l);
    const tokens = (type: string) => ({
      true: m.modelTokens.child({ ...l, type, estimated: 'true' }),
      false: m.modelTokens.child({ ...l, type, estimated: 'false' }),
    });
    this.tokens = { prompt: tokens('prompt'), completion: tokens('completion') };
    this.inFlight = m.modelInFlight.child(l);
    this.batchSize = m.modelBatchSize.child(l);
  }

  /** The error counter of `code` (an `SG_ERR_…` value). */
  error(code: string): CounterSeries {
    let c = this.errors.get(code);
    if (c === undefined) {
      c = this.m.modelErrors.child({ ...this.labels, code });
      this.errors.set(code, c);
    }
    return c;
  }

  /** The queue-wait histogram of an execution mechanism. */
  queue(mechanism: string): HistogramSeries {
    let h = this.queueWait.get(mechanism);
    if (h === undefined) {
      h = this.m.modelQueueWait.child({ ...this.labels, mechanism });
      this.queueWait.set(mechanism, h);
    }
    return h;
  }
}
