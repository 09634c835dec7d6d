import { afterEach, describe, expect, test } from 'vitest';
import {
  createGraph,
  type Graph,
  type HttpServer,
  MapStep,
  type ServeOptions,
  type StepContext,
  serve,
} from '../../src/index.js';
import { deferred, postJson, send } from '../integration/http-helpers.js';
import { type Exposition, histogram, parseMetrics, value } from '../monitoring/metrics-text.js';

// servegraph_http_* of monitoring.md section 9, read from GET /metrics over real HTTP

const REQUESTS = 'servegraph_http_requests_total';
const DURATION = 'servegraph_http_request_duration_seconds';
const IN_FLIGHT = 'servegraph_http_in_flight';
const GRAPH_ROUTE = '/*';

const open: HttpServer[] = [];

async function start(graph: Graph, options: ServeOptions = {}): Promise<HttpServer> {
  const app = await serve(graph, { port: 0, logger: false, openai: false, tracking: false, ...options });
  open.push(app);
  return app;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close({ graceMs: 0 })));
});

function graphOf(handler: (body: unknown, ctx: StepContext) => unknown): Graph {
  const graph = createGraph();
  graph.to(new MapStep({ name: 'answer', handler })).respond();
  return graph;
}

async function scrape(app: HttpServer): Promise<Exposition> {
  const res = await send(app.url, { path: '/metrics' });
  expect(res.status).toBe(200);
  return parseMetrics(res.text);
}

/** Scrape until `check` holds: a response's metrics are recorded when the server sees it close. */
async function scrapeUntil(app: HttpServer, check: (e: Exposition) => boolean): Promise<Exposition> {
  const end = Date.now() + 5000;
  for (;;) {
    const last = await scrape(app);
    if (check(last) || Date.now() > end) return last;
    await new Promise((r) => setTimeout(r, 10));
  }
}

const requests = (e: Exposition, route: string, method: string, status: string) =>
  value(e, REQUESTS, { route, method, status });

describe('servegraph_http_* series', () => {
  test('a JSON request: counted by route, method and status, its duration observed, in flight back to 0', async () => {
    const app = await start(graphOf((body) => body));
    expect((await postJson(app.url, { a: 1 })).status).toBe(200);
    expect((await postJson(app.url, { a: 2 })).status).toBe(200);
    const e = await scrapeUntil(app, (x) => requests(x, GRAPH_ROUTE, 'POST', '200') === 2);
    expect(requests(e, GRAPH_ROUTE, 'POST', '200')).toBe(2);
    const d = histogram(e, DURATION, { route: GRAPH_ROUTE, method: 'POST' });
    expect(d.count).toBe(2);
    expect(d.sum).toBeGreaterThan(0);
    expect(d.buckets.get('+Inf')).toBe(2);
    expect(value(e, IN_FLIGHT, { route: GRAPH_ROUTE })).toBe(0);
    expect(e.types.get(REQUESTS)).toBe('counter');
    expect(e.types.get(DURATION)).toBe('histogram');
    expect(e.types.get(IN_FLIGHT)).toBe('gauge');
  });

  test('reserved routes carry their own pattern; /metrics counts itself in flight while it answers', async () => {
    const app = await start(graphOf((body) => body));
    expect((await send(app.url, { path: '/healthz' })).status).toBe(200);
    const e = await scrapeUntil(app, (x) => requests(x, '/healthz', 'GET', '200') === 1);
    expect(requests(e, '/healthz', 'GET', '200')).toBe(1);
    expect(value(e, IN_FLIGHT, { route: '/metrics' })).toBe(1);
    expect(value(e, IN_FLIGHT, { route: '/healthz' })).toBe(0);
  });

  test('an SSE stream is in flight until its last byte, then counted with its whole duration', async () => {
    const gate = deferred();
    const app = await start(
      graphOf(async function* () {
        yield 'first';
        await gate.promise;
        yield 'second';
      }),
    );
    const res = await fetch(`${app.url}/x/y`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: '{}',
    });
    const reader = res.body!.getReader();
    await reader.read(); // the first chunk is out: the stream is open
    const during = await scrape(app);
    expect(value(during, IN_FLIGHT, { route: GRAPH_ROUTE })).toBe(1);
    expect(requests(during, GRAPH_ROUTE, 'POST', '200')).toBeUndefined();
    gate.resolve();
    while (!(await reader.read()).done) {
      // read to the end of the stream
    }
    const after = await scrapeUntil(app, (x) => requests(x, GRAPH_ROUTE, 'POST', '200') === 1);
    expect(requests(after, GRAPH_ROUTE, 'POST', '200')).toBe(1);
    expect(value(after, IN_FLIGHT, { route: GRAPH_ROUTE })).toBe(0);
    expect(histogram(after, DURATION, { route: GRAPH_ROUTE, method: 'POST' }).count).toBe(1);
  });

  test('a request answered 404 is counted on route "other"', async () => {
    // with CORS on the graph does not take OPTIONS; without preflight, CORS's OPTIONS route answers 404
    const app = await start(
      graphOf((body) => body),
      { cors: { origin: '*', preflight: false } },
    );
    const res = await send(app.url, { method: 'OPTIONS', path: '/anything' });
    expect(res.status).toBe(404);
    const e = await scrapeUntil(app, (x) => requests(x, 'other', 'OPTIONS', '404') === 1);
    expect(requests(e, 'other', 'OPTIONS', '404')).toBe(1);
    expect(value(e, IN_FLIGHT, { route: 'other' })).toBe(0);
  });

  test('errors are counted with their status: a failing step, a bad body, a refusal by maxConcurrency', async () => {
    const hold = deferred();
    const app = await start(
      graphOf(async (body) => {
        if ((body as { fail?: boolean }).fail) throw new Error('no');
        if ((body as { hold?: boolean }).hold) await hold.promise;
        return body;
      }),
      { maxConcurrency: 1 },
    );
    expect((await postJson(app.url, { fail: true })).status).toBe(500);
    const bad = await send(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":',
    });
    expect(bad.status).toBe(400);
    const held = postJson(app.url, { hold: true });
    await scrapeUntil(app, (x) => value(x, IN_FLIGHT, { route: GRAPH_ROUTE }) === 1);
    expect((await postJson(app.url, { a: 1 })).status).toBe(429);
    hold.resolve();
    expect((await held).status).toBe(200);
    const e = await scrapeUntil(app, (x) => requests(x, GRAPH_ROUTE, 'POST', '200') === 1);
    expect(requests(e, GRAPH_ROUTE, 'POST', '500')).toBe(1);
    expect(requests(e, GRAPH_ROUTE, 'POST', '400')).toBe(1);
    expect(requests(e, GRAPH_ROUTE, 'POST', '429')).toBe(1);
    expect(requests(e, GRAPH_ROUTE, 'POST', '200')).toBe(1);
    expect(histogram(e, DURATION, { route: GRAPH_ROUTE, method: 'POST' }).count).toBe(4);
    expect(value(e, IN_FLIGHT, { route: GRAPH_ROUTE })).toBe(0);
  });

  test('a client that goes away: in flight back to 0, counted as 499', async () => {
    const aborted = deferred();
    const app = await start(
      graphOf(async function* (_b: unknown, ctx: StepContext) {
        ctx.signal.addEventListener('abort', () => aborted.resolve());
        yield 'first';
        await new Promise((r) => setTimeout(r, 60_000).unref());
      }),
    );
    const controller = new AbortController();
    const res = await fetch(`${app.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: '{}',
      signal: controller.signal,
    });
    await res.body!.getReader().read();
    expect(value(await scrape(app), IN_FLIGHT, { route: GRAPH_ROUTE })).toBe(1);
    controller.abort();
    await aborted.promise;
    const e = await scrapeUntil(app, (x) => requests(x, GRAPH_ROUTE, 'POST', '499') === 1);
    expect(requests(e, GRAPH_ROUTE, 'POST', '499')).toBe(1);
    expect(value(e, IN_FLIGHT, { route: GRAPH_ROUTE })).toBe(0);
  });

  test('with metrics: false nothing is recorded (and /metrics goes to the graph)', async () => {
    const app = await start(
      graphOf((_body, ctx) => ctx.event.path),
      { metrics: false },
    );
    const res = await send(app.url, { path: '/metrics' });
    expect(res.status).toBe(200);
    expect(res.json()).toBe('/metrics');
  });
});
