// Bearer auth of serve() (http.md, "Routes" and "Limits": the token rule).
import { afterEach, describe, expect, test } from 'vitest';
import {
  createGraph,
  type Event,
  type Graph,
  type HttpServer,
  MapStep,
  type ServeOptions,
  type StepContext,
  serve,
} from '../../src/index.js';
import { deferred, type RawResponse, send, until } from './http-helpers.js';

const TOKEN = 's3cret-token';
const open: HttpServer[] = [];

async function start(graph: Graph, options: ServeOptions = {}): Promise<HttpServer> {
  const app = await serve(graph, { port: 0, logger: false, authToken: TOKEN, ...options });
  open.push(app);
  return app;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close({ graceMs: 0 })));
});

/** Replies with the method and path it saw; counts the events that reached it. */
function pathGraph(): { graph: Graph; seen: string[] } {
  const seen: string[] = [];
  const graph = createGraph();
  graph
    .to(
      new MapStep({
        name: 'where',
        fullEvent: true,
        handler: (ev: Event) => {
          seen.push(`${ev.method} ${ev.path}`);
          return { method: ev.method, path: ev.path };
        },
      }),
    )
    .respond();
  return { graph, seen };
}

function call(app: HttpServer, path: string, headers: Record<string, string> = {}, method = 'GET') {
  return send(app.url, { method, path, headers });
}

function expectUnauthorized(res: RawResponse): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer');
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json() as { error: Record<string, unknown> };
  expect(Object.keys(body.error).sort()).toEqual(['code', 'endpoint', 'message', 'step']);
  expect(body.error).toMatchObject({ code: 'SG_ERR_UNAUTHORIZED', step: null, endpoint: null });
  expect(typeof body.error.message).toBe('string');
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('the token rule', () => {
  test('graph routes need the token: missing or wrong is 401 with WWW-Authenticate; the right one is 200', async () => {
    const { graph, seen } = pathGraph();
    const app = await start(graph);
    expectUnauthorized(await call(app, '/', {}, 'POST'));
    expectUnauthorized(await call(app, '/', bearer('wrong'), 'POST'));
    expectUnauthorized(await call(app, '/', bearer(`${TOKEN}x`), 'POST'));
    expectUnauthorized(await call(app, '/', bearer(TOKEN.slice(0, -1)), 'POST'));
    expectUnauthorized(await call(app, '/', { authorization: TOKEN }, 'POST'));
    expectUnauthorized(await call(app, '/', { authorization: `Basic ${TOKEN}` }, 'POST'));
    expect(seen).toEqual([]);
    const ok = await call(app, '/a/b?x=1', bearer(TOKEN), 'POST');
    expect(ok.status).toBe(200);
    expect(ok.json()).toEqual({ method: 'POST', path: '/a/b' });
    expect(seen).toEqual(['POST /a/b']);
  });

  test('every method and unknown paths (/metrics, /anything) need it too', async () => {
    const { graph } = pathGraph();
    const app = await start(graph);
    for (const [method, path] of [
      ['GET', '/'],
      ['PUT', '/x'],
      ['DELETE', '/x'],
      ['GET', '/metrics'],
      ['GET', '/anything/else'],
      ['OPTIONS', '/x'],
    ] as const) {
      expectUnauthorized(await call(app, path, {}, method));
      expect((await call(app, path, bearer(TOKEN), method)).status, `${method} ${path}`).toBe(200);
    }
  });

  test('the 401 keeps the X-Request-Id echo', async () => {
    const app = await start(pathGraph().graph);
    const res = await call(app, '/', { 'x-request-id': 'req-401' }, 'POST');
    expectUnauthorized(res);
    expect(res.headers['x-request-id']).toBe('req-401');
  });

  test('/v1/* needs the token', async () => {
    const app = await start(pathGraph().graph);
    for (const path of ['/v1/models', '/v1/models/servegraph']) {
      const res = await call(app, path);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect((await call(app, path, bearer(TOKEN))).status).toBe(200);
    }
    const post = await send(app.url, {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'servegraph', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(post.status).toBe(401);
  });

  test('/healthz and /readyz are open, with or without a wrong token', async () => {
    const app = await start(pathGraph().graph);
    for (const path of ['/healthz', '/readyz']) {
      expect((await call(app, path)).status, path).toBe(200);
      expect((await call(app, path, bearer('wrong'))).status, path).toBe(200);
    }
    expect((await call(app, '/readyz')).json()).toEqual({ status: 'ready', models: {} });
  });

  test('without authToken nothing needs a token', async () => {
    const { graph } = pathGraph();
    const app = await serve(graph, { port: 0, logger: false });
    open.push(app);
    expect((await call(app, '/', {}, 'POST')).status).toBe(200);
    expect((await call(app, '/', bearer('anything'), 'POST')).status).toBe(200);
  });
});

describe('the dashboard cookie', () => {
  const cookie = { cookie: `servegraph_auth=${TOKEN}` };

  test('is not accepted on graph routes: only the Bearer header is', async () => {
    const { graph, seen } = pathGraph();
    const app = await start(graph);
    expectUnauthorized(await call(app, '/', cookie, 'POST'));
    expectUnauthorized(await call(app, '/', cookie));
    // the front's errors take OpenAI's shape (http-openai-errors.test.ts); the status is the point here
    const models = await call(app, '/v1/models', cookie);
    expect(models.status).toBe(401);
    expect(models.headers['www-authenticate']).toBe('Bearer');
    expect(seen).toEqual([]);
  });

  test('with the dashboard and the monitoring API switched off, their paths are graph routes: no cookie, no ?token', async () => {
    const { graph, seen } = pathGraph();
    const app = await start(graph, { dashboard: false, monitoringApi: false });
    expectUnauthorized(await call(app, '/dashboard', cookie));
    expectUnauthorized(await call(app, '/endpoints', cookie));
    expectUnauthorized(await call(app, '/endpoints/x/stats', cookie));
    const query = await call(app, `/dashboard?token=${TOKEN}`);
    expectUnauthorized(query);
    expect(query.headers['set-cookie']).toBeUndefined();
    expect(seen).toEqual([]);
    const ok = await call(app, '/dashboard', bearer(TOKEN));
    expect(ok.status).toBe(200);
    expect(ok.json()).toEqual({ method: 'GET', path: '/dashboard' });
  });
});

describe('auth and limits', () => {
  test('a wrong token is refused before concurrency is counted; health answers while the server is full', async () => {
    const gate = deferred();
    let entered = 0;
    const graph = createGraph();
    graph
      .to(
        new MapStep({
          name: 'hold',
          handler: async (body: unknown, ctx: StepContext) => {
            entered++;
            await Promise.race([gate.promise, new Promise((r) => ctx.signal.addEventListener('abort', r))]);
            return body;
          },
        }),
      )
      .respond();
    const app = await start(graph, { maxConcurrency: 1 });
    const held = send(app.url, {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/json', ...bearer(TOKEN) },
      body: '1',
    });
    await until(() => entered === 1);
    // the server is full: a wrong token is still 401, not 429; the right one is 429
    for (let i = 0; i < 3; i++) expectUnauthorized(await call(app, '/', bearer('wrong'), 'POST'));
    const full = await call(app, '/', bearer(TOKEN), 'POST');
    expect(full.status).toBe(429);
    expect((await call(app, '/healthz')).status).toBe(200);
    expect((await call(app, '/readyz')).status).toBe(200);
    gate.resolve();
    expect((await held).status).toBe(200);
    // the refused requests left nothing counted behind
    const after = await send(app.url, {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/json', ...bearer(TOKEN) },
      body: '2',
    });
    expect(after.status).toBe(200);
    expect(after.json()).toBe(2);
  });
});
