import { describe, expect, test } from 'vitest';
import { createGraph, MapStep, type SgError, type StepContext, serve } from '../../src/index.js';
import { deferred, openSocket, postJson, send, until } from './http-helpers.js';

/** A graph whose step holds every event until released; it records how each ended. */
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
        await Promise.race([
          gate.promise,
          new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true })),
        ]);
        state.finished++;
        return body;
      },
    }),
  );
  if (options.respond !== false) step.respond();
  return { graph, state, release: () => gate.resolve() };
}

function rawRequest(method: string, path: string, body = ''): string {
  const head = `${method} ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n`;
  return `${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

describe('graceful close', () => {
  test('requests in flight finish; close() returns the same promise twice; then nothing listens', async () => {
    const { graph, state, release } = holdingGraph();
    const app = await serve(graph, { port: 0, logger: false });
    const inFlight = postJson(app.url, { n: 1 });
    await until(() => state.entered === 1);
    const closing = app.close();
    expect(app.close()).toBe(closing);
    let closed = false;
    void closing.then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ n: 1 });
    await closing;
    expect(state.aborted).toEqual([]);
    await expect(send(app.url, { path: '/healthz' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('on a connection still open: /readyz is 503 draining, a graph request 503 SG_ERR_SERVER_CLOSED', async () => {
    const { graph, state, release } = holdingGraph();
    const app = await serve(graph, { port: 0, logger: false, retryAfterSeconds: 2 });
    // each socket holds a request in flight, so close() leaves it open; the next request is pipelined on it
    const forReady = await openSocket(app.url);
    const forGraph = await openSocket(app.url);
    forReady.write(rawRequest('POST', '/', '{"n":1}'));
    forGraph.write(rawRequest('POST', '/', '{"n":2}'));
    await until(() => state.entered === 2);
    const closing = app.close();
    forReady.write(rawRequest('GET', '/readyz'));
    forGraph.write(rawRequest('POST', '/', '{"n":3}'));
    await new Promise((r) => setTimeout(r, 100));
    release();

    const [readyText, graphText] = await Promise.all([forReady.closed, forGraph.closed]);
    await closing;
    const ready = readyText.split('HTTP/1.1 ').slice(1);
    expect(ready).toHaveLength(2);
    expect(ready[0]).toMatch(/^200 /);
    expect(ready[1]).toMatch(/^503 /);
    expect(ready[1]).toMatch(/retry-after: 2\r\n/i);
    expect(ready[1]).toContain('{"status":"draining","models":{}}');

    const answers = graphText.split('HTTP/1.1 ').slice(1);
    expect(answers).toHaveLength(2);
    expect(answers[0]).toMatch(/^200 /);
    expect(answers[1]).toMatch(/^503 /);
    expect(answers[1]).toMatch(/connection: close\r\n/i);
    expect(answers[1]).toMatch(/retry-after: 2\r\n/i);
    expect(answers[1]).toContain('"code":"SG_ERR_SERVER_CLOSED"');
    expect(state.entered).toBe(2);
  });

  test('requests still in flight when graceMs ends get 503 SG_ERR_SERVER_CLOSED, their work aborted', async () => {
    const { graph, state } = holdingGraph();
    const app = await serve(graph, { port: 0, logger: false, graceMs: 60_000 });
    const inFlight = postJson(app.url, { n: 1 });
    await until(() => state.entered === 1);
    await app.close({ graceMs: 100 });
    const res = await inFlight;
    expect(res.status).toBe(503);
    expect(res.headers.connection).toBe('close');
    expect(res.headers['retry-after']).toBe('1');
    expect((res.json() as { error: { code: string } }).error.code).toBe('SG_ERR_SERVER_CLOSED');
    expect((state.aborted[0] as SgError).code).toBe('SG_ERR_SERVER_CLOSED');
  });

  test('the work of requests already answered 202 runs on during the grace period', async () => {
    const { graph, state, release } = holdingGraph({ respond: false });
    const app = await serve(graph, { port: 0, logger: false });
    const res = await postJson(app.url, { n: 1 });
    expect(res.status).toBe(202);
    await until(() => state.entered === 1);
    const closing = app.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(state.finished).toBe(0);
    release();
    await closing;
    expect(state.finished).toBe(1);
    expect(state.aborted).toEqual([]);
  });

  test('invalid close options reject with SG_ERR_INVALID_OPTION and leave the server open', async () => {
    const graph = createGraph();
    graph.to(new MapStep({ name: 'x', handler: (b: unknown) => b })).respond();
    const app = await serve(graph, { port: 0, logger: false });
    await expect(app.close({ graceMs: -1 })).rejects.toMatchObject({ code: 'SG_ERR_INVALID_OPTION' });
    expect((await postJson(app.url, 5)).json()).toBe(5);
    await app.close();
  });
});
