import http from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import {
  createGraph,
  type Event,
  Filter,
  type Graph,
  type HttpServer,
  MapStep,
  type ServeOptions,
  SgError,
  type StepContext,
  serve,
} from '../../src/index.js';
import { deferred, postJson, type RawResponse, send, until } from './http-helpers.js';

const open: HttpServer[] = [];

async function start(graph: Graph, options: ServeOptions = {}): Promise<HttpServer> {
  const app = await serve(graph, { port: 0, logger: false, ...options });
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

function errorOf(res: RawResponse): Record<string, unknown> {
  const body = res.json() as { error: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'endpoint', 'message', 'step']);
  return body.error;
}

/** A step that holds every event until the test releases it; `entered` counts the events holding. */
function holdingGraph(options: { respond?: boolean } = {}) {
  const gate = deferred();
  const state = { entered: 0, finished: 0, aborted: [] as unknown[] };
  const graph = createGraph();
  const step = graph.to(
    new MapStep({
      name: 'hold',
      handler: async (body: unknown, ctx: StepContext) => {
        state.entered++;
        ctx.signal.addEventListener('abort', () => state.aborted.push(ctx.signal.reason));
        await gate.promise;
        state.finished++;
        return body;
      },
    }),
  );
  if (options.respond !== false) step.respond();
  return { graph, state, release: () => gate.resolve() };
}

describe('the non-streamed reply', () => {
  test('a value is 200 JSON, a string as a JSON string', async () => {
    const app = await start(graphOf((body) => (body as { v: unknown }).v));
    for (const v of [{ a: [1, 'x'] }, [1, 2], 'hello', 'héllo ✓ 日本', 3.5, true, null]) {
      const res = await postJson(app.url, { v });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.text).toBe(JSON.stringify(v));
      // the reply is written to the socket by servegraph itself: its length in bytes, and the request's id
      expect(res.headers['content-length']).toBe(String(Buffer.byteLength(JSON.stringify(v))));
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  test('a Uint8Array is 200 application/octet-stream with the bytes', async () => {
    const app = await start(graphOf(() => new Uint8Array([1, 2, 3, 250])));
    const res = await send(app.url);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect([...res.body]).toEqual([1, 2, 3, 250]);
  });

  test('undefined, or an event filtered out before the responder, is 204 without a body', async () => {
    const filtered = createGraph();
    filtered
      .to(new Filter({ name: 'keep-big', handler: (b: { n: number }) => b.n > 10 }))
      .to(new MapStep({ name: 'answer', handler: (b: { n: number }) => b.n }))
      .respond();
    const app = await start(filtered);
    const dropped = await postJson(app.url, { n: 1 });
    expect(dropped.status).toBe(204);
    expect(dropped.body.length).toBe(0);
    expect(dropped.headers['x-request-id']).toBeDefined();
    const kept = await postJson(app.url, { n: 11 });
    expect(kept.status).toBe(200);
    expect(kept.json()).toBe(11);

    const nothing = await start(graphOf(() => undefined));
    expect((await send(nothing.url)).status).toBe(204);
  });

  test('a graph without a responder answers 202 {id} at once, while its work goes on', async () => {
    const { graph, state, release } = holdingGraph({ respond: false });
    const app = await start(graph);
    const res = await send(app.url, { method: 'POST', headers: { 'x-request-id': 'fire-1' }, body: '{}' });
    expect(res.status).toBe(202);
    expect(res.json()).toEqual({ id: 'fire-1' });
    expect(res.headers['x-request-id']).toBe('fire-1');
    expect(state.finished).toBe(0);
    await until(() => state.entered === 1);
    release();
    await until(() => state.finished === 1);
  });

  test('a step failure is the error body with the code status, step and endpoint', async () => {
    const quota = await start(
      graphOf(() => {
        throw new SgError('SG_ERR_QUOTA_EXCEEDED', 'tenant acme used its 1000 calls today');
      }),
    );
    const q = await send(quota.url);
    expect(q.status).toBe(500);
    expect(q.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(errorOf(q)).toEqual({
      code: 'SG_ERR_QUOTA_EXCEEDED',
      message: 'tenant acme used its 1000 calls today',
      step: 'answer',
      endpoint: null,
    });

    const badRequest = await start(
      graphOf(() => {
        throw new SgError('SG_ERR_BAD_REQUEST', "expected 'q': a non-empty string", { details: { field: 'q' } });
      }),
    );
    const b = await send(badRequest.url);
    expect(b.status).toBe(400);
    expect(errorOf(b)).toMatchObject({ code: 'SG_ERR_BAD_REQUEST', step: 'answer', endpoint: null });

    const plain = await start(
      graphOf(() => {
        throw new Error('boom');
      }),
    );
    const p = await send(plain.url);
    expect(p.status).toBe(500);
    expect(errorOf(p)).toMatchObject({ code: 'SG_ERR_STEP_FAILED', step: 'answer', endpoint: null });
    // the server goes on serving after a failure
    expect((await send(plain.url)).status).toBe(500);
  });

  test('a reply with no JSON form is 500 SG_ERR_INTERNAL', async () => {
    const app = await start(graphOf(() => ({ n: 1n })));
    const res = await send(app.url);
    expect(res.status).toBe(500);
    expect(errorOf(res).code).toBe('SG_ERR_INTERNAL');
  });

  test.each([1, 0])(
    'replies decided in the same turn are written together (coalesceRepliesMs %i), each to its own request',
    async (coalesceRepliesMs) => {
      // every event waits at the gate and all are released in one turn: their replies are decided together
      const { graph, state, release } = holdingGraph();
      const app = await start(graph, { coalesceRepliesMs });
      const n = 40;
      const replies = Array.from({ length: n }, (_, i) =>
        send(app.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': `req-${i}` },
          body: JSON.stringify({ i }),
        }),
      );
      await until(() => state.entered === n);
      release();
      const got = await Promise.all(replies);
      for (const [i, res] of got.entries()) {
        expect(res.status).toBe(200);
        expect(res.headers['x-request-id']).toBe(`req-${i}`);
        expect(res.json()).toEqual({ i });
      }
      // and the server goes on answering, one request at a time
      expect((await postJson(app.url, { after: true })).json()).toEqual({ after: true });
    },
  );

  test('every method and any path goes to the graph, except the reserved routes', async () => {
    const graph = createGraph();
    graph
      .to(new MapStep({ name: 'where', fullEvent: true, handler: (ev: Event) => `${ev.method} ${ev.path}` }))
      .respond();
    // a reserved route that is switched off is the graph's (http.md, "Routes")
    const app = await start(graph, { openai: false, metrics: false, monitoringApi: false, dashboard: false });
    for (const [method, path] of [
      ['GET', '/'],
      ['POST', '/v1/chat/completions'],
      ['DELETE', '/metrics'],
      ['PUT', '/healthz/'],
      ['OPTIONS', '/dashboard'],
      ['PROPFIND', '/endpoints/x'],
      ['GET', '/HEALTHZ'],
    ]) {
      const res = await send(app.url, { method, path });
      expect(res.status).toBe(200);
      expect(res.json()).toBe(`${method} ${path}`);
    }
  });
});

describe('limits', () => {
  test('429 SG_ERR_OVERLOADED with Retry-After once maxConcurrency requests are in flight', async () => {
    const { graph, state, release } = holdingGraph();
    const app = await start(graph, { maxConcurrency: 2, retryAfterSeconds: 7 });
    const held = [postJson(app.url, { n: 1 }), postJson(app.url, { n: 2 })];
    await until(() => state.entered === 2);
    const over = await postJson(app.url, { n: 3 });
    expect(over.status).toBe(429);
    expect(over.headers['retry-after']).toBe('7');
    expect(errorOf(over)).toMatchObject({ code: 'SG_ERR_OVERLOADED', step: null, endpoint: null });
    // health and readiness do not count, and answer while the server is full
    expect((await send(app.url, { path: '/healthz' })).status).toBe(200);
    expect((await send(app.url, { path: '/readyz' })).status).toBe(200);
    release();
    const done = await Promise.all(held);
    expect(done.map((r) => r.status)).toEqual([200, 200]);
    expect((await postJson(app.url, { n: 4 })).json()).toEqual({ n: 4 });
  });

  test('maxConcurrency 0 means no limit', async () => {
    const { graph, state, release } = holdingGraph();
    const app = await start(graph, { maxConcurrency: 0 });
    const held = Array.from({ length: 20 }, (_, n) => postJson(app.url, { n }));
    await until(() => state.entered === 20);
    release();
    expect((await Promise.all(held)).every((r) => r.status === 200)).toBe(true);
  });

  test('requestTimeoutMs: 504 SG_ERR_TIMEOUT, and the work is cancelled with that error', async () => {
    const { graph, state, release } = holdingGraph();
    const app = await start(graph, { requestTimeoutMs: 200 });
    const res = await postJson(app.url, { slow: true });
    expect(res.status).toBe(504);
    expect(errorOf(res)).toMatchObject({ code: 'SG_ERR_TIMEOUT', step: null, endpoint: null });
    await until(() => state.aborted.length === 1);
    expect(state.aborted[0]).toBeInstanceOf(SgError);
    expect((state.aborted[0] as SgError).code).toBe('SG_ERR_TIMEOUT');
    release();
    // the slot it held is free again
    expect((await postJson(app.url, { n: 1 })).status).toBe(200);
  });

  test('a client that goes away cancels its request with SG_ERR_CLIENT_CLOSED', async () => {
    const { graph, state, release } = holdingGraph();
    const app = await start(graph, { maxConcurrency: 1 });
    const { hostname, port } = new URL(app.url);
    const req = http.request({ host: hostname, port, method: 'POST', path: '/', agent: false });
    req.on('error', () => {});
    req.end('{"n":1}');
    await until(() => state.entered === 1);
    req.destroy();
    await until(() => state.aborted.length === 1);
    expect((state.aborted[0] as SgError).code).toBe('SG_ERR_CLIENT_CLOSED');
    release();
    // its place among maxConcurrency is free again
    await until(() => state.finished === 1);
    const next = postJson(app.url, { n: 2 });
    expect((await next).status).toBe(200);
  });
});

describe('health and readiness', () => {
  test('/healthz and /readyz when ready; HEAD too', async () => {
    const app = await start(graphOf((b) => b));
    const health = await send(app.url, { path: '/healthz' });
    expect(health.status).toBe(200);
    expect(health.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(health.json()).toEqual({ status: 'ok', tracking: 'on' });
    const ready = await send(app.url, { path: '/readyz?verbose=1' });
    expect(ready.status).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', models: {} });
    const head = await send(app.url, { method: 'HEAD', path: '/readyz' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  test('other methods on them are 405 SG_ERR_METHOD_NOT_ALLOWED with Allow', async () => {
    const app = await start(graphOf((b) => b));
    for (const [method, path] of [
      ['POST', '/healthz'],
      ['DELETE', '/readyz'],
      ['OPTIONS', '/healthz'],
    ]) {
      const res = await send(app.url, { method, path, headers: { 'content-type': 'application/json' }, body: '{' });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
      expect(errorOf(res).code).toBe('SG_ERR_METHOD_NOT_ALLOWED');
    }
  });
});
