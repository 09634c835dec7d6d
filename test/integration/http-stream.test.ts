import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterEach, describe, expect, test } from 'vitest';
import {
  createGraph,
  type Graph,
  type HttpServer,
  MapStep,
  type ServeOptions,
  SgError,
  type StepContext,
  serve,
} from '../../src/index.js';
import { deferred, until } from './http-helpers.js';

const open: HttpServer[] = [];

async function start(graph: Graph, options: ServeOptions = {}): Promise<HttpServer> {
  const app = await serve(graph, { port: 0, host: '127.0.0.1', logger: false, ...options });
  open.push(app);
  return app;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close({ graceMs: 0 })));
});

const ID = '7d0c2c54-6e0b-4c1f-9d4e-0f3d2b1a9e77';
const USAGE = { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 };

function graphOf(handler: (body: unknown, ctx: StepContext) => unknown): Graph {
  const graph = createGraph();
  graph.to(new MapStep({ name: 'answer', handler })).respond();
  return graph;
}

/** The http.md example: a streaming step yielding "Hel", "lo", reporting usage. */
function helloGraph(): Graph {
  return graphOf(async function* () {
    yield 'Hel';
    yield 'lo';
    return { usage: USAGE };
  });
}

function post(app: HttpServer, accept: string | undefined, body: unknown = 'hi', signal?: AbortSignal) {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': ID };
  if (accept !== undefined) headers.accept = accept;
  return fetch(`${app.url}/`, { method: 'POST', headers, body: JSON.stringify(body), signal });
}

/** Reads a response body incrementally, as text. */
function reader(res: Response) {
  const r = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    get text() {
      return text;
    },
    /** read until `check(text)` holds or the body ends */
    async until(check: (t: string) => boolean): Promise<string> {
      while (!check(text)) {
        const { value, done } = await r.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      return text;
    },
    async all(): Promise<string> {
      return this.until(() => false);
    },
    cancel: () => r.cancel(),
  };
}

function sseEvents(text: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  parser.feed(text);
  return events;
}

const SSE_HELLO =
  'event: chunk\nid: 0\ndata: "Hel"\n\n' +
  'event: chunk\nid: 1\ndata: "lo"\n\n' +
  `event: done\ndata: {"id":"${ID}","chunks":2,"usage":${JSON.stringify(USAGE)}}\n\n`;

const NDJSON_HELLO =
  '{"event":"chunk","seq":0,"data":"Hel"}\n' +
  '{"event":"chunk","seq":1,"data":"lo"}\n' +
  `{"event":"done","id":"${ID}","chunks":2,"usage":${JSON.stringify(USAGE)}}\n`;

describe('streamed reply formats', () => {
  test('SSE: exact lines and headers of the http.md example', async () => {
    const app = await start(helloGraph());
    const res = await post(app, 'text/event-stream');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(res.headers.get('connection')).toBe('keep-alive');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('x-request-id')).toBe(ID);
    const text = await reader(res).all();
    expect(text).toBe(SSE_HELLO);
    const events = sseEvents(text);
    expect(events.map((e) => [e.event, e.id])).toEqual([
      ['chunk', '0'],
      ['chunk', '1'],
      ['done', undefined],
    ]);
    expect(JSON.parse(events[2]!.data)).toEqual({ id: ID, chunks: 2, usage: USAGE });
  });

  test('NDJSON: exact lines of the http.md example', async () => {
    const app = await start(helloGraph());
    const res = await post(app, 'application/x-ndjson');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(await res.text()).toBe(NDJSON_HELLO);
  });

  test('chunks arrive one by one, before the producer finishes', async () => {
    const gate = deferred();
    const app = await start(
      graphOf(async function* () {
        yield 'first';
        await gate.promise;
        yield 'second';
      }),
    );
    const res = await post(app, 'application/x-ndjson');
    const body = reader(res);
    await body.until((t) => t.includes('\n'));
    expect(body.text).toBe('{"event":"chunk","seq":0,"data":"first"}\n');
    gate.resolve();
    expect(await body.all()).toContain('"seq":1,"data":"second"');
  });

  test('Uint8Array chunks are sent as base64', async () => {
    const app = await start(
      graphOf(async function* () {
        yield new Uint8Array([1, 2, 3]);
      }),
    );
    const res = await post(app, 'application/x-ndjson');
    const lines = (await res.text()).trim().split('\n');
    expect(JSON.parse(lines[0]!)).toEqual({ event: 'chunk', seq: 0, data: 'AQID' });
  });
});

describe('Accept negotiation', () => {
  const rows: Array<[string | undefined, ServeOptions['streamFormat'] | undefined, string]> = [
    ['text/event-stream', undefined, 'sse'],
    ['application/x-ndjson', undefined, 'ndjson'],
    ['text/event-stream, application/x-ndjson', undefined, 'sse'],
    ['application/x-ndjson, text/event-stream', undefined, 'ndjson'],
    ['text/event-stream;q=0.5, application/x-ndjson;q=0.9', undefined, 'ndjson'],
    ['application/x-ndjson; q=0.2, text/event-stream', undefined, 'sse'],
    ['application/json', undefined, 'json'],
    ['application/json, application/x-ndjson', undefined, 'ndjson'],
    [undefined, undefined, 'sse'],
    ['*/*', undefined, 'sse'],
    ['text/plain', undefined, 'sse'],
    [undefined, 'ndjson', 'ndjson'],
    ['*/*', 'ndjson', 'ndjson'],
    [undefined, 'json', 'json'],
    ['text/event-stream', 'json', 'sse'],
  ];
  test.each(rows)('Accept %s, streamFormat %s: %s', async (accept, streamFormat, format) => {
    const app = await start(helloGraph(), streamFormat === undefined ? {} : { streamFormat });
    const res = await post(app, accept);
    expect(res.status).toBe(200);
    const text = await res.text();
    if (format === 'sse') expect(text).toBe(SSE_HELLO);
    else if (format === 'ndjson') expect(text).toBe(NDJSON_HELLO);
    else {
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(JSON.parse(text)).toBe('Hello');
    }
  });
});

describe('replies that do not stream', () => {
  test('a non-streaming reply to an SSE client is one chunk then done', async () => {
    const app = await start(graphOf((body) => ({ echo: body })));
    const res = await post(app, 'text/event-stream', 'x');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(
      `event: chunk\nid: 0\ndata: {"echo":"x"}\n\nevent: done\ndata: {"id":"${ID}","chunks":1}\n\n`,
    );
  });

  test('undefined to an NDJSON client is no chunk, done with chunks 0', async () => {
    const app = await start(graphOf(() => undefined));
    const res = await post(app, 'application/x-ndjson');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`{"event":"done","id":"${ID}","chunks":0}\n`);
  });

  test('a non-streaming reply to a client that named neither is JSON', async () => {
    const app = await start(graphOf((body) => ({ echo: body })));
    for (const accept of [undefined, '*/*', 'application/json']) {
      const res = await post(app, accept, 'x');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({ echo: 'x' });
    }
  });

  test('JSON Accept gets the collected result of a stream', async () => {
    const app = await start(helloGraph());
    const res = await post(app, 'application/json');
    expect(res.status).toBe(200);
    expect(await res.json()).toBe('Hello');
  });
});

describe('failures', () => {
  test('a producer failing after 2 chunks: 200, the chunks, then an error event', async () => {
    const app = await start(
      graphOf(async function* () {
        yield 'a';
        yield 'b';
        throw new SgError('SG_ERR_PROVIDER_HTTP', 'provider answered HTTP 500', { endpoint: 'chat' });
      }),
    );
    for (const accept of ['text/event-stream', 'application/x-ndjson']) {
      const res = await post(app, accept);
      expect(res.status).toBe(200);
      const text = await res.text();
      if (accept === 'text/event-stream') {
        const events = sseEvents(text);
        expect(events.map((e) => e.event)).toEqual(['chunk', 'chunk', 'error']);
        expect(events[2]!.id).toBeUndefined();
        expect(text).toMatch(/\n\nevent: error\ndata: \{"error":\{[^\n]*\}\}\n\n$/);
        const { error } = JSON.parse(events[2]!.data) as { error: Record<string, unknown> };
        expect(error).toEqual({
          code: 'SG_ERR_PROVIDER_HTTP',
          message: 'provider answered HTTP 500',
          step: 'answer',
          endpoint: 'chat',
        });
      } else {
        const lines = text
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(lines.map((l) => l.event)).toEqual(['chunk', 'chunk', 'error']);
        expect(Object.keys(lines[2]!.error as object).sort()).toEqual(['code', 'endpoint', 'message', 'step']);
        expect((lines[2]!.error as { code: string }).code).toBe('SG_ERR_PROVIDER_HTTP');
      }
    }
  });

  test('a failure before the first chunk is the ordinary JSON error response', async () => {
    const app = await start(
      graphOf(async function* () {
        yield* [];
        throw new SgError('SG_ERR_PROVIDER_HTTP', 'provider answered HTTP 500');
      }),
    );
    for (const accept of ['text/event-stream', 'application/x-ndjson', undefined]) {
      const res = await post(app, accept);
      expect(res.status).toBe(502);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).toBe('SG_ERR_PROVIDER_HTTP');
    }
  });

  test('requestTimeoutMs counts to the first chunk: 504 before it, no limit after', async () => {
    const slow = graphOf(async function* (_b: unknown, ctx: StepContext) {
      await new Promise((r) => setTimeout(r, 400));
      if (ctx.signal.aborted) return;
      yield 'late';
    });
    const app = await start(slow, { requestTimeoutMs: 100 });
    const res = await post(app, 'text/event-stream');
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SG_ERR_TIMEOUT');

    const app2 = await start(
      graphOf(async function* () {
        yield 'early';
        await new Promise((r) => setTimeout(r, 300));
        yield 'late';
      }),
      { requestTimeoutMs: 100 },
    );
    const res2 = await post(app2, 'application/x-ndjson');
    expect(res2.status).toBe(200);
    const text = await res2.text();
    expect(text).toContain('"data":"late"');
    expect(text).toContain('"event":"done"');
  });
});

describe('keep-alive', () => {
  function waiting() {
    const gate = deferred();
    const graph = graphOf(async function* () {
      await gate.promise;
      yield 'x';
    });
    return { graph, release: () => gate.resolve() };
  }

  test('SSE named in Accept: headers and ": ping" after heartbeatMs, before the first chunk', async () => {
    const { graph, release } = waiting();
    const app = await start(graph, { heartbeatMs: 50 });
    const res = await post(app, 'text/event-stream');
    expect(res.status).toBe(200);
    const body = reader(res);
    await body.until((t) => t.split(': ping\n\n').length > 2);
    expect(body.text.startsWith(': ping\n\n')).toBe(true);
    release();
    const text = await body.all();
    expect(sseEvents(text).map((e) => e.event)).toEqual(['chunk', 'done']);
  });

  test('NDJSON named in Accept: {"event":"ping"} lines', async () => {
    const { graph, release } = waiting();
    const app = await start(graph, { heartbeatMs: 50 });
    const res = await post(app, 'application/x-ndjson');
    const body = reader(res);
    await body.until((t) => t.includes('{"event":"ping"}\n'));
    release();
    const lines = (await body.all()).trim().split('\n');
    expect(lines[0]).toBe('{"event":"ping"}');
    expect(lines.filter((l) => l !== '{"event":"ping"}').map((l) => JSON.parse(l).event)).toEqual(['chunk', 'done']);
  });

  test('format from streamFormat: no headers and no ping before the first chunk', async () => {
    const { graph, release } = waiting();
    const app = await start(graph, { heartbeatMs: 30 });
    let headersAt = 0;
    const pending = post(app, '*/*').then((res) => {
      headersAt = Date.now();
      return res;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(headersAt).toBe(0);
    const releasedAt = Date.now();
    release();
    const res = await pending;
    expect(headersAt).toBeGreaterThanOrEqual(releasedAt);
    const text = await res.text();
    expect(text.startsWith('event: chunk\nid: 0\ndata: "x"\n\n')).toBe(true);
  });
});

describe('backpressure', () => {
  test('a producer yielding faster than the client reads waits for it: nothing piles up in the server', async () => {
    const TOTAL = 20_000;
    const piece = 'x'.repeat(4096);
    const state = { produced: 0 };
    // a synchronous generator: its chunks come in bursts, which the writer hands to the socket together
    const app = await start(
      graphOf(function* () {
        for (let i = 0; i < TOTAL; i++) {
          state.produced++;
          yield piece;
        }
      }),
      { streamFormat: 'ndjson' },
    );
    const { request } = await import('node:http');
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = request(`${app.url}/`, { method: 'POST', headers: { accept: 'application/x-ndjson' } }, resolve);
      req.once('error', reject);
      req.end('{}');
    });
    res.pause();
    // the producer stops once the socket and its buffers are full, far short of its 80 MB
    let last = -1;
    while (state.produced !== last) {
      last = state.produced;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(state.produced).toBeGreaterThan(0);
    expect(state.produced).toBeLessThan(TOTAL);
    // reading again lets it finish: every chunk, in order, then done
    let seq = 0;
    let tail = '';
    let done = false;
    res.setEncoding('utf8');
    res.on('data', (text: string) => {
      const lines = (tail + text).split('\n');
      tail = lines.pop()!;
      for (const line of lines) {
        const ev = JSON.parse(line) as { event: string; seq?: number; chunks?: number };
        if (ev.event === 'chunk') expect(ev.seq).toBe(seq++);
        else if (ev.event === 'done') done = ev.chunks === TOTAL;
      }
    });
    res.resume();
    await new Promise((r) => res.once('end', r));
    expect(seq).toBe(TOTAL);
    expect(done).toBe(true);
  });
});

describe('client disconnect', () => {
  test("closing the connection mid-stream aborts the producer's signal", async () => {
    const state = { produced: 0, aborted: undefined as unknown, abortedAt: 0, finallyAt: 0 };
    const graph = graphOf(async function* (_b: unknown, ctx: StepContext) {
      ctx.signal.addEventListener('abort', () => {
        state.aborted = ctx.signal.reason;
        state.abortedAt = Date.now();
      });
      try {
        for (;;) {
          state.produced++;
          yield state.produced;
          await new Promise((r) => setTimeout(r, 10));
        }
      } finally {
        state.finallyAt = Date.now();
      }
    });
    const app = await start(graph);
    const controller = new AbortController();
    const res = await post(app, 'application/x-ndjson', 'x', controller.signal);
    const body = reader(res);
    await body.until((t) => t.split('\n').length > 3);
    expect(state.aborted).toBeUndefined();
    const cutAt = Date.now();
    controller.abort();
    await until(() => state.aborted !== undefined, 3);
    expect(state.abortedAt).toBeGreaterThanOrEqual(cutAt);
    expect(state.abortedAt - cutAt).toBeLessThan(2000);
    expect((state.aborted as SgError).code).toBe('SG_ERR_CLIENT_CLOSED');
    await until(() => state.finallyAt > 0, 3);
    const produced = state.produced;
    await new Promise((r) => setTimeout(r, 100));
    expect(state.produced).toBe(produced);
  });
});
