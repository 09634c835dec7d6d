// CORS of serve() (http.md, "Routes": OPTIONS is the preflight's when cors is set; "Limits": CORS).
import { afterEach, describe, expect, test } from 'vitest';
import {
  createGraph,
  type Event,
  type Graph,
  type HttpServer,
  MapStep,
  type ServeOptions,
  serve,
} from '../../src/index.js';
import { type RawResponse, send } from './http-helpers.js';

const open: HttpServer[] = [];

async function start(graph: Graph, options: ServeOptions = {}): Promise<HttpServer> {
  const app = await serve(graph, { port: 0, logger: false, ...options });
  open.push(app);
  return app;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close({ graceMs: 0 })));
});

/** Replies with the method and path it saw; records the events that reached it. */
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

const ORIGIN = 'http://app.example';

function preflight(app: HttpServer, path = '/anything', extra: Record<string, string> = {}): Promise<RawResponse> {
  return send(app.url, {
    method: 'OPTIONS',
    path,
    headers: {
      origin: ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, authorization',
      ...extra,
    },
  });
}

function post(app: HttpServer, headers: Record<string, string> = {}): Promise<RawResponse> {
  return send(app.url, {
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers },
    body: '{"a":1}',
  });
}

/** A header as a list of lower-case names ('GET, POST' → ['get', 'post']). */
const list = (h: string | string[] | undefined): string[] =>
  String(h ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');

const corsHeaders = (res: RawResponse): string[] =>
  Object.keys(res.headers).filter((h) => h.startsWith('access-control-'));

describe('cors: true', () => {
  test("a preflight on any path is 204 with the spec's headers; it does not reach the graph", async () => {
    const { graph, seen } = pathGraph();
    const app = await start(graph, { cors: true });
    for (const path of ['/anything', '/', '/v1/chat/completions', '/healthz']) {
      const res = await preflight(app, path);
      expect(res.status, path).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(list(res.headers['access-control-allow-methods'])).toEqual(['get', 'post', 'options']);
      expect(list(res.headers['access-control-allow-headers'])).toEqual([
        'content-type',
        'authorization',
        'accept',
        'x-request-id',
      ]);
      expect(res.body.length).toBe(0);
    }
    expect(seen).toEqual([]);
  });

  test('a request with Origin gets Access-Control-Allow-Origin: * and X-Request-Id exposed', async () => {
    const { graph, seen } = pathGraph();
    const app = await start(graph, { cors: true });
    const res = await post(app, { 'x-request-id': 'cors-1' });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ method: 'POST', path: '/' });
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(list(res.headers['access-control-expose-headers'])).toContain('x-request-id');
    expect(res.headers['x-request-id']).toBe('cors-1');
    expect(seen).toEqual(['POST /']);
  });

  test('with authToken the preflight needs no token; the request itself does', async () => {
    const { graph, seen } = pathGraph();
    const app = await start(graph, { cors: true, authToken: 'tok' });
    const pre = await preflight(app);
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect((await post(app)).status).toBe(401);
    const ok = await post(app, { authorization: 'Bearer tok' });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('*');
    expect(seen).toEqual(['POST /']);
  });

  test('error responses carry the CORS headers, so a browser can read them: 400 and 401 alike', async () => {
    const app = await start(pathGraph().graph, { cors: true, authToken: 'tok' });
    const badJson = await send(app.url, {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/json', origin: ORIGIN, authorization: 'Bearer tok' },
      body: '{',
    });
    expect(badJson.status).toBe(400);
    expect(badJson.headers['access-control-allow-origin']).toBe('*');
    const unauthorized = await post(app);
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['access-control-allow-origin']).toBe('*');
    expect(list(unauthorized.headers['access-control-expose-headers'])).toContain('x-request-id');
  });

  test('health routes get the CORS headers too', async () => {
    const app = await start(pathGraph().graph, { cors: true });
    const res = await send(app.url, { path: '/healthz', headers: { origin: ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });
});

describe('cors: false (the default)', () => {
  test('no CORS headers, and OPTIONS goes to the graph', async () => {
    const { graph, seen } = pathGraph();
    for (const options of [{}, { cors: false }] as ServeOptions[]) {
      seen.length = 0;
      const app = await start(graph, options);
      const res = await post(app);
      expect(res.status).toBe(200);
      expect(corsHeaders(res)).toEqual([]);
      const opt = await preflight(app, '/anything');
      expect(opt.status).toBe(200);
      expect(opt.json()).toEqual({ method: 'OPTIONS', path: '/anything' });
      expect(corsHeaders(opt)).toEqual([]);
      expect(seen).toEqual(['POST /', 'OPTIONS /anything']);
      await app.close({ graceMs: 0 });
    }
  });

  test('without cors, OPTIONS needs the token like any graph request', async () => {
    const { graph } = pathGraph();
    const app = await start(graph, { authToken: 'tok' });
    expect((await preflight(app)).status).toBe(401);
    expect((await preflight(app, '/anything', { authorization: 'Bearer tok' })).status).toBe(200);
  });
});

describe('cors: an object', () => {
  test('is passed to @fastify/cors: its origin is the one allowed', async () => {
    const { graph, seen } = pathGraph();
    const app = await start(graph, { cors: { origin: 'http://a.example' } });
    const res = await post(app, { origin: 'http://a.example' });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('http://a.example');
    // servegraph's defaults for `true` are not merged in: the object is @fastify/cors's options as they are
    expect(res.headers['access-control-expose-headers']).toBeUndefined();
    const pre = await preflight(app, '/x', { origin: 'http://a.example' });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('http://a.example');
    expect(seen).toEqual(['POST /']);
  });

  test('an origin list: a listed origin is echoed, another gets no Allow-Origin', async () => {
    const app = await start(pathGraph().graph, {
      cors: { origin: ['http://a.example', 'http://b.example'], exposedHeaders: ['X-Request-Id'] },
    });
    const b = await post(app, { origin: 'http://b.example' });
    expect(b.headers['access-control-allow-origin']).toBe('http://b.example');
    expect(list(b.headers['access-control-expose-headers'])).toEqual(['x-request-id']);
    const other = await post(app, { origin: 'http://evil.example' });
    expect(other.status).toBe(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
