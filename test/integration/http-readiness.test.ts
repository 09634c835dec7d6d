// Per-model readiness (/readyz) and load progress (onProgress) of serve() (http.md, `serve` and "Health and
// readiness"). The thread_pool model loads servegraph's dist/ in its workers: run `npm run build` first.
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import {
  createGraph,
  type Graph,
  type HttpServer,
  type LoadProgress,
  Model,
  ModelRunnerStep,
  type ServeOptions,
  SgError,
  serve,
} from '../../src/index.js';
import { deferred, postJson, send, until } from './http-helpers.js';

/** A fixture model loadable in a worker thread (test/fixtures/models/runner-models.mjs). */
const WHERE = `${join(import.meta.dirname, '..', 'fixtures', 'models', 'runner-models.mjs')}#Where`;

const open: HttpServer[] = [];

async function start(graph: Graph, options: ServeOptions = {}): Promise<HttpServer> {
  const app = await serve(graph, { port: 0, logger: false, ...options });
  open.push(app);
  return app;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close({ graceMs: 0 })));
});

/** A model whose load() waits for the test; `fail` makes it throw once released. */
class SlowLoad extends Model<unknown, unknown> {
  static gate = deferred();
  static entered = 0;
  static fail: Error | undefined;
  override async load(): Promise<void> {
    SlowLoad.entered++;
    await SlowLoad.gate.promise;
    if (SlowLoad.fail) throw SlowLoad.fail;
  }
  override predict(input: unknown): unknown {
    return { loaded: true, input };
  }
}

/** A model that loads at once. */
class Quick extends Model<unknown, unknown> {
  override predict(input: unknown): unknown {
    return input;
  }
}

function resetSlow(fail?: Error): void {
  SlowLoad.gate = deferred();
  SlowLoad.entered = 0;
  SlowLoad.fail = fail;
}

/** One runner: a slow model 'slow' and a quick one 'quick'. */
function slowGraph(): Graph {
  const runner = new ModelRunnerStep({ name: 'runner' });
  runner.addModel({ endpointName: 'slow', modelClass: SlowLoad, executionMechanism: 'asyncio' });
  runner.addModel({ endpointName: 'quick', modelClass: Quick, executionMechanism: 'asyncio' });
  const graph = createGraph({ name: 'slow-load' });
  graph.to(runner).respond();
  return graph;
}

describe('/readyz per model', () => {
  test('loading, then ready: each model loading or loaded; Retry-After while loading', async () => {
    resetSlow();
    const app = await start(slowGraph(), { waitUntilReady: false, retryAfterSeconds: 4 });
    await until(() => SlowLoad.entered === 1);
    // the quick model may already be loaded; the slow one is not
    const loading = await send(app.url, { path: '/readyz' });
    expect(loading.status).toBe(503);
    expect(loading.headers['retry-after']).toBe('4');
    const body = loading.json() as { status: string; models: Record<string, string> };
    expect(body.status).toBe('loading');
    expect(body.models.slow).toBe('loading');
    expect(Object.keys(body.models).sort()).toEqual(['quick', 'slow']);
    expect(['loading', 'loaded']).toContain(body.models.quick);
    // a graph request before ready is refused
    const early = await postJson(app.url, { a: 1 });
    expect(early.status).toBe(503);
    expect((early.json() as { error: { code: string } }).error.code).toBe('SG_ERR_NOT_READY');

    SlowLoad.gate.resolve();
    await app.ready();
    const ready = await send(app.url, { path: '/readyz' });
    expect(ready.status).toBe(200);
    expect(ready.headers['retry-after']).toBeUndefined();
    expect(ready.json()).toEqual({ status: 'ready', models: { slow: 'loaded', quick: 'loaded' } });
    const ok = await postJson(app.url, { a: 1 });
    expect(ok.status).toBe(200);
  });

  test('a model whose load fails shows as failed; ready() rejects; no Retry-After', async () => {
    resetSlow(new SgError('SG_ERR_QUOTA_EXCEEDED', 'no licence for this model'));
    const app = await start(slowGraph(), { waitUntilReady: false });
    await until(() => SlowLoad.entered === 1);
    SlowLoad.gate.resolve();
    const err = await app.ready().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SgError);
    const ready = await send(app.url, { path: '/readyz' });
    expect(ready.status).toBe(503);
    expect(ready.headers['retry-after']).toBeUndefined();
    const body = ready.json() as { status: string; models: Record<string, string> };
    expect(body.status).toBe('failed');
    expect(body.models.slow).toBe('failed');
    expect((await send(app.url, { path: '/healthz' })).status).toBe(200);
    const req = await postJson(app.url, 1);
    expect(req.status).toBe(503);
    expect((req.json() as { error: { code: string } }).error.code).toBe('SG_ERR_NOT_READY');
  });

  test('with waitUntilReady (the default), a model that fails to load rejects serve', async () => {
    resetSlow(new Error('weights missing'));
    SlowLoad.gate.resolve();
    const err = await serve(slowGraph(), { port: 0, logger: false }).then(
      (app) => {
        open.push(app);
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SgError);
    expect(String((err as SgError).message)).toContain('weights missing');
  });
});

describe('onProgress', () => {
  test('one call per loaded copy: loaded counts up to total, which counts pool copies and shared models', async () => {
    const calls: LoadProgress[] = [];
    const runner = new ModelRunnerStep({ name: 'runner' });
    // two worker threads: two copies of 'threaded'
    runner.configurePoolResource({ maxThreads: 2, poolFactor: 2 });
    runner.addModel({ endpointName: 'threaded', modelClass: WHERE, executionMechanism: 'thread_pool' });
    runner.addModel({ endpointName: 'inline', modelClass: Quick, executionMechanism: 'asyncio' });
    runner.addSharedModelProxy({ endpointName: 'via-shared', sharedModelName: 'shared' });
    const graph = createGraph({ name: 'progress' });
    graph.addSharedModel({ name: 'shared', modelClass: Quick, executionMechanism: 'asyncio' });
    graph.to(runner).respond();
    const app = await start(graph, { onProgress: (p) => calls.push({ ...p }) });

    expect(calls).toHaveLength(4);
    expect(calls.map((c) => c.loaded)).toEqual([1, 2, 3, 4]);
    for (const c of calls) expect(c.total).toBe(4);
    expect(calls.map((c) => c.endpoint).sort()).toEqual(['inline', 'shared', 'threaded', 'threaded']);
    expect((await send(app.url, { path: '/readyz' })).json()).toEqual({
      status: 'ready',
      models: { threaded: 'loaded', inline: 'loaded', shared: 'loaded' },
    });
  });

  test('progress is reported while serve() waits: the slow model is the last', async () => {
    resetSlow();
    const calls: LoadProgress[] = [];
    let resolved = false;
    const pending = serve(slowGraph(), { port: 0, logger: false, onProgress: (p) => calls.push({ ...p }) }).then(
      (app) => {
        resolved = true;
        open.push(app);
        return app;
      },
    );
    await until(() => SlowLoad.entered === 1 && calls.length === 1);
    expect(calls[0]).toEqual({ loaded: 1, total: 2, endpoint: 'quick' });
    expect(resolved).toBe(false);
    SlowLoad.gate.resolve();
    await pending;
    expect(calls).toEqual([
      { loaded: 1, total: 2, endpoint: 'quick' },
      { loaded: 2, total: 2, endpoint: 'slow' },
    ]);
  });

  test('an onProgress that throws does not stop loading', async () => {
    const graph = createGraph();
    graph
      .to(
        new ModelRunnerStep({ name: 'r' }).addModel({
          endpointName: 'q',
          modelClass: Quick,
          executionMechanism: 'asyncio',
        }),
      )
      .respond();
    let n = 0;
    const app = await start(graph, {
      onProgress: () => {
        n++;
        throw new Error('display broke');
      },
    });
    expect(n).toBe(1);
    expect((await postJson(app.url, { a: 1 })).json()).toEqual({ a: 1 });
  });
});
