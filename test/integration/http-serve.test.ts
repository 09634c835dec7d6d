import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import {
  createGraph,
  type Graph,
  type HttpServer,
  MapStep,
  type ServeOptions,
  SgError,
  Step,
  serve,
} from '../../src/index.js';
import { deferred, postJson, send, until } from './http-helpers.js';

const open: HttpServer[] = [];

async function start(graph: Graph, options: ServeOptions = {}): Promise<HttpServer> {
  const app = await serve(graph, { port: 0, logger: false, ...options });
  open.push(app);
  return app;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close({ graceMs: 0 })));
});

function echoGraph(): Graph {
  const graph = createGraph();
  graph.to(new MapStep({ name: 'echo', handler: (b: unknown) => b })).respond();
  return graph;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function rejection(p: Promise<unknown>): Promise<SgError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SgError);
  return err as SgError;
}

/** A user step whose init() waits for the test: the graph is not ready until then. */
class SlowStart extends Step {
  static gate = deferred();
  static entered = false;
  static fail: Error | undefined;
  async init(): Promise<void> {
    SlowStart.entered = true;
    await SlowStart.gate.promise;
    if (SlowStart.fail) throw SlowStart.fail;
  }
  override do(input: unknown): unknown {
    return input;
  }
}

function slowGraph(fail?: Error): Graph {
  SlowStart.gate = deferred();
  SlowStart.entered = false;
  SlowStart.fail = fail;
  const graph = createGraph();
  graph.to(new SlowStart({ name: 'slow' })).respond();
  return graph;
}

describe('options', () => {
  test.each<[string, Record<string, unknown>]>([
    ['port', { port: -1 }],
    ['port', { port: 70000 }],
    ['port', { port: '8080' }],
    ['host', { host: '' }],
    ['bodyLimit', { bodyLimit: 0 }],
    ['streamFormat', { streamFormat: 'xml' }],
    ['requestTimeoutMs', { requestTimeoutMs: -5 }],
    ['maxConcurrency', { maxConcurrency: 1.5 }],
    ['retryAfterSeconds', { retryAfterSeconds: 0 }],
    ['graceMs', { graceMs: Number.NaN }],
    ['coalesceRepliesMs', { coalesceRepliesMs: -1 }],
    ['coalesceRepliesMs', { coalesceRepliesMs: 5000 }],
    ['waitUntilReady', { waitUntilReady: 'yes' }],
    ['handleSignals', { handleSignals: 1 }],
    ['logger', { logger: 'info' }],
    ['logger', { logger: { level: 'loud' } }],
    ['openai.model', { openai: { model: '' } }],
    ['openai.path', { openai: { path: 'v1' } }],
    ['onProgress', { onProgress: 5 }],
    ['tracking', { tracking: true }],
    ['tracking.ioSampleRate', { tracking: { ioSampleRate: 2 } }],
    ['cors', { cors: 'yes' }],
    ['metrics', { metrics: 'no' }],
  ])('an invalid %s rejects with SG_ERR_INVALID_OPTION naming it', async (field, options) => {
    const err = await rejection(serve(echoGraph(), { port: 0, logger: false, ...options } as ServeOptions));
    expect(err.code).toBe('SG_ERR_INVALID_OPTION');
    expect(err.details.field).toBe(field);
    expect(err.message).toContain(field);
  });

  test('an unknown option rejects; the graph can then be served', async () => {
    const graph = echoGraph();
    const err = await rejection(serve(graph, { port: 0, colour: 'red' } as ServeOptions));
    expect(err.code).toBe('SG_ERR_INVALID_OPTION');
    expect(err.message).toContain('colour');
    const app = await start(graph);
    expect((await postJson(app.url, { a: 1 })).json()).toEqual({ a: 1 });
  });

  test("the later issues' options are accepted already", async () => {
    const app = await start(echoGraph(), {
      streamFormat: 'ndjson',
      authToken: 'secret',
      heartbeatMs: 0,
      cors: { origin: '*' },
      openai: { model: 'm', path: '/chat', answerPath: 'answer' },
      onProgress: () => {},
      tracking: { enabled: false },
      metrics: false,
      dashboard: false,
      monitoringApi: false,
      handleSignals: false,
      requestTimeoutMs: 0,
      graceMs: 0,
    });
    const res = await send(app.url, {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/json', authorization: 'Bearer secret' },
      body: '[1]',
    });
    expect(res.json()).toEqual([1]);
  });

  test('a graph that is not a Graph, or an invalid graph, rejects', async () => {
    const notGraph = await rejection(serve({} as Graph, { port: 0 }));
    expect(notGraph.code).toBe('SG_ERR_INVALID_OPTION');
    const empty = await rejection(serve(createGraph(), { port: 0, logger: false }));
    expect(empty.code).toBe('SG_ERR_EMPTY_GRAPH');
  });
});

describe('start-up', () => {
  test('url and port: port 0 picks a free port', async () => {
    const app = await start(echoGraph());
    expect(app.port).toBeGreaterThan(0);
    expect(app.url).toBe(`http://127.0.0.1:${app.port}`);
    expect(app.fastify.server.listening).toBe(true);
    await app.ready();
  });

  test('a port in use rejects with SG_ERR_INVALID_OPTION naming port; the graph can be served again', async () => {
    const first = await start(echoGraph());
    const graph = echoGraph();
    const err = await rejection(serve(graph, { port: first.port, logger: false }));
    expect(err.code).toBe('SG_ERR_INVALID_OPTION');
    expect(err.details.field).toBe('port');
    const second = await start(graph);
    expect((await postJson(second.url, 'ok')).json()).toBe('ok');
  });

  test('serve waits until the graph is ready', async () => {
    const graph = slowGraph();
    let resolved = false;
    const pending = serve(graph, { port: 0, logger: false }).then((app) => {
      resolved = true;
      open.push(app);
      return app;
    });
    await until(() => SlowStart.entered);
    await new Promise((r) => setTimeout(r, 50));
    expect(resolved).toBe(false);
    SlowStart.gate.resolve();
    const app = await pending;
    expect((await send(app.url, { path: '/readyz' })).status).toBe(200);
  });

  test('before ready: /readyz 503 loading and graph requests 503 SG_ERR_NOT_READY, with Retry-After', async () => {
    const app = await start(slowGraph(), { waitUntilReady: false, retryAfterSeconds: 3 });
    await until(() => SlowStart.entered);
    const ready = await send(app.url, { path: '/readyz' });
    expect(ready.status).toBe(503);
    expect(ready.headers['retry-after']).toBe('3');
    expect(ready.json()).toEqual({ status: 'loading', models: {} });
    const health = await send(app.url, { path: '/healthz' });
    expect(health.status).toBe(200);
    const early = await postJson(app.url, { a: 1 });
    expect(early.status).toBe(503);
    expect(early.headers['retry-after']).toBe('3');
    expect((early.json() as { error: { code: string } }).error.code).toBe('SG_ERR_NOT_READY');

    SlowStart.gate.resolve();
    await app.ready();
    expect((await send(app.url, { path: '/readyz' })).json()).toEqual({ status: 'ready', models: {} });
    expect((await postJson(app.url, { a: 1 })).json()).toEqual({ a: 1 });
  });

  test('a start-up failure rejects serve with that error and closes what was opened', async () => {
    const graph = slowGraph(new Error('no dictionary'));
    const port = await freePort();
    const pending = serve(graph, { port, logger: false });
    await until(() => SlowStart.entered);
    SlowStart.gate.resolve();
    const err = await rejection(pending);
    expect(err.code).toBe('SG_ERR_STEP_INIT');
    expect(err.step).toBe('slow');
    // the port was closed and the graph is free: both can be served again
    SlowStart.fail = undefined;
    const app = await start(graph, { port });
    expect(app.port).toBe(port);
    expect((await postJson(app.url, 1)).json()).toBe(1);
  });

  test('with waitUntilReady false, a failed start-up shows as /readyz "failed" without Retry-After', async () => {
    const app = await start(slowGraph(new SgError('SG_ERR_QUOTA_EXCEEDED', 'no licence')), { waitUntilReady: false });
    SlowStart.gate.resolve();
    const err = await rejection(app.ready());
    expect(err.code).toBe('SG_ERR_QUOTA_EXCEEDED');
    const ready = await send(app.url, { path: '/readyz' });
    expect(ready.status).toBe(503);
    expect(ready.headers['retry-after']).toBeUndefined();
    expect(ready.json()).toEqual({ status: 'failed', models: {} });
    const req = await postJson(app.url, 1);
    expect(req.status).toBe(503);
    expect((req.json() as { error: { code: string } }).error.code).toBe('SG_ERR_NOT_READY');
  });
});

describe('logging and signals', () => {
  test('pino options: one access line per request, with status and error code', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const app = await start(echoGraph(), {
      logger: {
        level: 'info',
        hooks: {
          // capture instead of writing
          logMethod(args: unknown[]) {
            const [obj, msg] = args;
            if (typeof obj === 'object' && obj !== null) lines.push({ ...obj, msg });
          },
        },
      },
    });
    await postJson(app.url, { a: 1 });
    await send(app.url, { method: 'POST', path: '/x?y=1', headers: { 'content-type': 'application/json' }, body: '{' });
    await until(() => lines.filter((l) => l.msg === 'request completed').length === 2);
    const access = lines.filter((l) => l.msg === 'request completed');
    expect(access[0]).toMatchObject({ method: 'POST', url: '/', statusCode: 200 });
    expect(access[1]).toMatchObject({ method: 'POST', url: '/x?y=1', statusCode: 400, code: 'SG_ERR_BAD_JSON' });
    expect(typeof access[0].durationMs).toBe('number');
  });

  test('handleSignals: SIGTERM and SIGINT start a graceful close, and the listeners go with it', async () => {
    const before = { term: process.listeners('SIGTERM'), int: process.listeners('SIGINT') };
    const app = await start(echoGraph(), { handleSignals: true });
    const added = process.listeners('SIGTERM').filter((l) => !before.term.includes(l));
    expect(added).toHaveLength(1);
    expect(process.listeners('SIGINT').filter((l) => !before.int.includes(l))).toHaveLength(1);
    // call the listener as the signal would, without signalling the test process
    (added[0] as () => void)();
    await app.close();
    expect(app.fastify.server.listening).toBe(false);
    expect(process.listeners('SIGTERM')).toEqual(before.term);
    expect(process.listeners('SIGINT')).toEqual(before.int);
  });
});
