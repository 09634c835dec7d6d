import type { Gauge } from 'prom-client';
import type { MetricSet } from './definitions.js';
import type { CounterSeries, HistogramSeries } from './families.js';

/** The label value of a request that matched no route (monitoring.md section 9). */
export const OTHER_ROUTE = 'other';

/**
 * The HTTP series of monitoring.md section 9, bound once per route and method so that a request costs two
 * map lookups, a counter, a histogram observation and two integer updates: no label object, no hashing.
 * The in-flight counts are plain numbers per route, handed to the gauge when it is read (a scrape).
 */
export class HttpSeries {
  private readonly routes = new Map<string, HttpRouteSeries>();

  constructor(private readonly m: Pick<MetricSet, 'httpRequests' | 'httpDuration' | 'httpInFlight'>) {
    const gauge = m.httpInFlight as Gauge<'route'> & { collect?: () => void };
    // prom-client calls a gauge's collect() before reading it (the documented `collect` option, set here)
    gauge.collect = () => {
      for (const r of this.routes.values()) gauge.set({ route: r.route }, r.open);
    };
  }

  /** The in-flight count and per-method series of `route` (a route pattern, or OTHER_ROUTE). */
  route(route: string): HttpRouteSeries {
    let r = this.routes.get(route);
    if (r === undefined) {
      r = new HttpRouteSeries(this.m, route);
      this.routes.set(route, r);
    }
    return r;
  }
}

/** One route's in-flight count and its series by method. */
export class HttpRouteSeries {
  /** requests and streams open on this route */
  open = 0;
  private readonly methods = new Map<string, HttpRequestSeries>();
  /** the last method asked for, and its series: a route mostly sees one method */
  private lastMethod: string | undefined;
  private lastSeries: HttpRequestSeries | undefined;

  constructor(
    private readonly m: Pick<MetricSet, 'httpRequests' | 'httpDuration'>,
    readonly route: string,
  ) {}

  method(method: string): HttpRequestSeries {
    if (method === this.lastMethod) return this.lastSeries!;
    let s = this.methods.get(method);
    if (s === undefined) {
      s = new HttpRequestSeries(this.m, this, method);
      this.methods.set(method, s);
    }
    this.lastMethod = method;
    this.lastSeries = s;
    return s;
  }
}

/** What one request on a route with a method updates: in flight while open, then its status and duration. */
export class HttpRequestSeries {
  private readonly duration: HistogramSeries;
  /** request counters by status code (a sparse array: a handful of codes are ever used) */
  private readonly statuses: CounterSeries[] = [];

  constructor(
    private readonly m: Pick<MetricSet, 'httpRequests' | 'httpDuration'>,
    private readonly route: HttpRouteSeries,
    private readonly method: string,
  ) {
    this.duration = m.httpDuration.child({ route: route.route, method });
  }

  /** A request opened. */
  started(): void {
    this.route.open++;
  }

  /** The request that started() is counted on another route's series instead (a route that answers 404). */
  moved(): void {
    this.route.open--;
  }

  /** The request that started() closed with `status` (499: cut by the client) after `seconds`. */
  ended(status: number, seconds: number): void {
    this.route.open--;
    const code = status >= 100 && status <= 999 ? status | 0 : 0;
    let counter = this.statuses[code];
    if (counter === undefined) {
      counter = this.m.httpRequests.child({ route: this.route.route, method: this.method, status: String(code) });
      this.statuses[code] = counter;
    }
    counter.inc();
    this.duration.observe(seconds);
  }
}
