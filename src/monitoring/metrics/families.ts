import type { Metric, MetricObjectWithValues, MetricValueWithName, Registry } from 'prom-client';

/**
 * Counter, gauge and histogram families for the hot path. prom-client's own spend about 1 µs per histogram
 * observation (label validation, hashing, float-keyed bucket lookups), several per call record, over the
 * budget of monitoring.md section 5. These keep each series in a small object bound once, and hand
 * prom-client's `Registry` the same `get()` shape its own metrics do, so its text format, content type and
 * JSON output are unchanged. A series appears once first updated; `reset()` zeroes it, keeping it bound.
 */

type Labels<L extends string> = Readonly<Record<L, string>>;
type Value = MetricValueWithName<string>;

abstract class Family<L extends string, S extends { used: boolean; zero(): void }> {
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  readonly aggregator = 'sum' as const;
  private readonly series = new Map<string, S>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    register: Registry,
  ) {
    register.registerMetric(this as unknown as Metric);
  }

  /** The series of `labels`, created on first use (it shows once updated). */
  child(labels: Labels<L>): S {
    let key = '';
    for (const n of this.labelNames) key += `${labels[n]}\u0001`;
    let s = this.series.get(key);
    if (s === undefined) {
      const own = {} as Record<L, string>;
      for (const n of this.labelNames) own[n] = String(labels[n]);
      s = this.make(Object.freeze(own));
      this.series.set(key, s);
    }
    return s;
  }

  /** Zeroes every series (prom-client's `registry.resetMetrics()`). */
  reset(): void {
    for (const s of this.series.values()) s.zero();
  }

  async get(): Promise<MetricObjectWithValues<Value>> {
    const values: Value[] = [];
    for (const s of this.series.values()) if (s.used) this.export(s, values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values } as never;
  }

  protected abstract make(labels: Labels<L>): S;
  protected abstract export(s: S, into: Value[]): void;
}

export class CounterSeries {
  used = false;
  value = 0;
  constructor(readonly labels: Readonly<Record<string, string>>) {}

  /** Adds `n` (default 1); a negative or non-finite `n` is ignored. */
  inc(n = 1): void {
    if (!(n >= 0 && n !== Number.POSITIVE_INFINITY)) return;
    this.value += n;
    this.used = true;
  }

  zero(): void {
    this.value = 0;
  }
}

export class FastCounter<L extends string> extends Family<L, CounterSeries> {
  readonly type = 'counter' as const;

  inc(labels: Labels<L>, n = 1): void {
    this.child(labels).inc(n);
  }

  protected make(labels: Labels<L>): CounterSeries {
    return new CounterSeries(labels);
  }

  protected export(s: CounterSeries, into: Value[]): void {
    into.push({ value: s.value, labels: s.labels });
  }
}

/** A gauge bound to its labels: what is in flight, queued, busy. */
export class GaugeSeries {
  used = false;
  value = 0;
  constructor(readonly labels: Readonly<Record<string, string>>) {}

  inc(): void {
    this.value++;
    this.used = true;
  }

  dec(): void {
    this.value--;
    this.used = true;
  }

  /** Sets the value; a non-finite `v` is ignored. */
  set(v: number): void {
    if (!Number.isFinite(v)) return;
    this.value = v;
    this.used = true;
  }

  zero(): void {
    this.value = 0;
  }
}

export class FastGauge<L extends string> extends Family<L, GaugeSeries> {
  readonly type = 'gauge' as const;

  set(labels: Labels<L>, v: number): void {
    this.child(labels).set(v);
  }

  protected make(labels: Labels<L>): GaugeSeries {
    return new GaugeSeries(labels);
  }

  protected export(s: GaugeSeries, into: Value[]): void {
    into.push({ value: s.value, labels: s.labels });
  }
}

export class HistogramSeries {
  used = false;
  sum = 0;
  count = 0;
  /** Observations per bucket, not cumulative; above the last bound only `count` counts them. */
  readonly counts: Float64Array;
  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  /** Observes `v` (`le` is inclusive); a negative or non-finite `v` is ignored. */
  observe(v: number): void {
    if (!(v >= 0 && v !== Number.POSITIVE_INFINITY)) return;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]) {
        this.counts[i]++;
        break;
      }
    }
    this.sum += v;
    this.count++;
    this.used = true;
  }

  zero(): void {
    this.sum = 0;
    this.count = 0;
    this.counts.fill(0);
  }
}

export class FastHistogram<L extends string> extends Family<L, HistogramSeries> {
  readonly type = 'histogram' as const;
  /** The bucket bounds, increasing, without `+Inf`. */
  readonly bounds: readonly number[];

  constructor(name: string, help: string, labelNames: readonly L[], bounds: readonly number[], register: Registry) {
    super(name, help, labelNames, register);
    this.bounds = Object.freeze([...bounds]);
  }

  observe(labels: Labels<L>, v: number): void {
    this.child(labels).observe(v);
  }

  protected make(labels: Labels<L>): HistogramSeries {
    return new HistogramSeries(labels, this.bounds);
  }

  protected export(s: HistogramSeries, into: Value[]): void {
    const bucket = `${this.name}_bucket`;
    let acc = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      acc += s.counts[i];
      into.push({ metricName: bucket, value: acc, labels: { ...s.labels, le: this.bounds[i] } });
    }
    into.push({ metricName: bucket, value: s.count, labels: { ...s.labels, le: '+Inf' } });
    into.push({ metricName: `${this.name}_sum`, value: s.sum, labels: s.labels });
    into.push({ metricName: `${this.name}_count`, value: s.count, labels: s.labels });
  }
}
