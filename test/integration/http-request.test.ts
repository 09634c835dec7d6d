import http from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createGraph, type Event, type HttpServer, MapStep, serve } from '../../src/index.js';
import { postJson, type RawResponse, send } from './http-helpers.js';

// http.md, "From request to event": the fields of every event, as the graph received them
type Seen = Pick<Event, 'id' | 'body' | 'path' | 'method' | 'headers' | 'query' | 'contentType' | 'timestamp' | 'meta'>;
const seen = new Map<string, Seen>();
let app: HttpServer;

beforeAll(async () => {
  const graph = createGraph({ name: 'echo' });
  graph
    .to(
      new MapStep({
        name: 'echo',
        fullEvent: true,
        handler: (ev: Event) => {
          const { id, body, path, method, headers, query, contentType, timestamp, meta } = ev;
          seen.set(id, { id, body, path, method, headers, query, contentType, timestamp, meta: { ...meta } });
          return { id: ev.id };
        },
      }),
    )
    .respond();
  app = await serve(graph, { port: 0, logger: false, bodyLimit: 1024 });
});

afterAll(async () => {
  await app.close();
});

function eventOf(res: RawResponse): Seen {
  expect(res.status).toBe(200);
  const id = res.headers['x-request-id'];
  expect(typeof id).toBe('string');
  const ev = seen.get(id as string);
  expect(ev).toBeDefined();
  return ev!;
}

async function bodyOf(contentType: string | undefined, body: string | Buffer, method = 'POST'): Promise<unknown> {
  const headers = contentType === undefined ? {} : { 'content-type': contentType };
  return eventOf(await send(app.url, { method, path: '/', headers, body })).body;
}

async function expectStillServes(): Promise<void> {
  const res = await postJson(app.url, { ok: true });
  expect(res.status).toBe(200);
  expect(eventOf(res).body).toEqual({ ok: true });
}

function expectError(res: RawResponse, status: number, code: string): { message: string } {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json() as { error: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'endpoint', 'message', 'step']);
  expect(body.error.code).toBe(code);
  expect(body.error.step).toBeNull();
  expect(body.error.endpoint).toBeNull();
  return body.error as { message: string };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('X-Request-Id', () => {
  test('a valid id becomes the event id and is echoed', async () => {
    const res = await send(app.url, { headers: { 'x-request-id': 'req-1.a:B_2' } });
    expect(res.headers['x-request-id']).toBe('req-1.a:B_2');
    expect(eventOf(res).id).toBe('req-1.a:B_2');
    expect(res.json()).toEqual({ id: 'req-1.a:B_2' });
  });

  test.each([
    ['a space', 'bad id'],
    ['129 characters', 'x'.repeat(129)],
    ['a slash', 'a/b'],
  ])('an id with %s is replaced by a new UUID, echoed', async (_what, id) => {
    const res = await send(app.url, { headers: { 'x-request-id': id } });
    const echoed = res.headers['x-request-id'] as string;
    expect(echoed).toMatch(UUID);
    expect(eventOf(res).id).toBe(echoed);
  });

  test('without the header the id is a new UUID; every response echoes it', async () => {
    const a = await send(app.url);
    const b = await send(app.url);
    expect(a.headers['x-request-id']).toMatch(UUID);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    for (const path of ['/healthz', '/readyz']) {
      const res = await send(app.url, { path, headers: { 'x-request-id': 'health-1' } });
      expect(res.headers['x-request-id']).toBe('health-1');
    }
    const bad = await send(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'bad-json-1' },
      body: '{',
    });
    expect(bad.status).toBe(400);
    expect(bad.headers['x-request-id']).toBe('bad-json-1');
    const notAllowed = await send(app.url, { method: 'DELETE', path: '/readyz', headers: { 'x-request-id': 'm-1' } });
    expect(notAllowed.headers['x-request-id']).toBe('m-1');
  });
});

describe('the event fields', () => {
  test('path as sent, percent-encoding kept, without the query string', async () => {
    expect(eventOf(await send(app.url, { path: '/a%20b/c%2Fd?x=1' })).path).toBe('/a%20b/c%2Fd');
    expect(eventOf(await send(app.url, { path: '/bad%zz/%ff' })).path).toBe('/bad%zz/%ff');
    expect(eventOf(await send(app.url, { path: '/' })).path).toBe('/');
  });

  test('query parsed; a repeated name gives an array', async () => {
    const ev = eventOf(await send(app.url, { path: '/q?a=1&b=x%20y&a=2&c&d=%26&a=3' }));
    expect(ev.query).toEqual({ a: ['1', '2', '3'], b: 'x y', c: '', d: '&' });
    expect(eventOf(await send(app.url, { path: '/q' })).query).toEqual({});
  });

  test('a query or form name __proto__ stays an own field and changes no prototype', async () => {
    const ev = eventOf(await send(app.url, { path: '/q?__proto__=x&constructor=y' }));
    expect(Object.getPrototypeOf(ev.query)).toBe(Object.prototype);
    expect(Object.hasOwn(ev.query, '__proto__')).toBe(true);
    expect(ev.query.constructor).toBe('y');
  });

  test('method upper case; headers lower-case, a repeated one joined with ", "', async () => {
    const res = await send(app.url, {
      method: 'PATCH',
      path: '/h',
      headers: { 'X-Custom': 'One', 'x-multi': ['a', 'b'], Accept: ['text/plain', 'application/json'] },
    });
    const ev = eventOf(res);
    expect(ev.method).toBe('PATCH');
    expect(ev.headers['x-custom']).toBe('One');
    expect(ev.headers['x-multi']).toBe('a, b');
    expect(ev.headers.accept).toBe('text/plain, application/json');
    for (const name of Object.keys(ev.headers)) expect(name).toBe(name.toLowerCase());
  });

  test('contentType: the media type without parameters, lower case; "" when absent', async () => {
    const typed = await send(app.url, {
      method: 'POST',
      headers: { 'content-type': 'Application/JSON; Charset=UTF-8' },
      body: '{}',
    });
    expect(eventOf(typed).contentType).toBe('application/json');
    expect(eventOf(await send(app.url, { method: 'POST', body: 'x' })).contentType).toBe('');
  });

  test('meta.trace from traceparent and tracestate; meta empty without them', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const both = eventOf(await send(app.url, { headers: { traceparent, tracestate: 'vendor=1' } }));
    expect(both.meta).toEqual({ trace: { traceparent, tracestate: 'vendor=1' } });
    const only = eventOf(await send(app.url, { headers: { traceparent } }));
    expect(only.meta).toEqual({ trace: { traceparent } });
    expect(eventOf(await send(app.url)).meta).toEqual({});
  });

  test('timestamp is the arrival time', async () => {
    const before = Date.now();
    const ev = eventOf(await send(app.url));
    expect(ev.timestamp).toBeInstanceOf(Date);
    expect(ev.timestamp.getTime()).toBeGreaterThanOrEqual(before);
    expect(ev.timestamp.getTime()).toBeLessThanOrEqual(Date.now());
  });
});

describe('the body by content type', () => {
  test('JSON: any value, application/json and application/*+json', async () => {
    expect(await bodyOf('application/json', '{"a":[1,{"b":null}]}')).toEqual({ a: [1, { b: null }] });
    expect(await bodyOf('application/json', '[1,2]')).toEqual([1, 2]);
    expect(await bodyOf('application/json', '42')).toBe(42);
    expect(await bodyOf('application/json', '"hi"')).toBe('hi');
    expect(await bodyOf('application/json; charset=utf-8', '{"é":"ü"}')).toEqual({ é: 'ü' });
    expect(await bodyOf('application/vnd.api+json', '{"data":1}')).toEqual({ data: 1 });
    expect(await bodyOf('application/json', '{"constructor":{"name":1}}')).toEqual({ constructor: { name: 1 } });
  });

  test('text/* and application/x-ndjson: a string decoded with the charset', async () => {
    expect(await bodyOf('text/plain', 'héllo')).toBe('héllo');
    expect(await bodyOf('text/csv; charset=latin1', Buffer.from([0x63, 0xe9]))).toBe('cé');
    expect(await bodyOf('text/plain; charset="utf-16le"', Buffer.from('hi', 'utf16le'))).toBe('hi');
    expect(await bodyOf('application/x-ndjson', '{"a":1}\n{"a":2}\n')).toBe('{"a":1}\n{"a":2}\n');
    expect(await bodyOf('text/plain', '{"a":1}')).toBe('{"a":1}');
  });

  test('urlencoded: a record, a repeated name gives an array', async () => {
    expect(await bodyOf('application/x-www-form-urlencoded', 'a=1&b=x+y&a=2&c=%C3%A9')).toEqual({
      a: ['1', '2'],
      b: 'x y',
      c: 'é',
    });
  });

  test('no content type: JSON when it parses, else the UTF-8 text', async () => {
    expect(await bodyOf(undefined, '{"a":1}')).toEqual({ a: 1 });
    expect(await bodyOf(undefined, '7')).toBe(7);
    expect(await bodyOf(undefined, 'hello {')).toBe('hello {');
  });

  test('any other type: the bytes, unparsed', async () => {
    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    for (const type of ['application/octet-stream', 'image/png', 'multipart/form-data; boundary=x', 'garbage']) {
      const body = await bodyOf(type, bytes);
      expect(body).toBeInstanceOf(Uint8Array);
      expect(Buffer.compare(body as Buffer, bytes)).toBe(0);
    }
    const json = await bodyOf('application/octet-stream', '{"a":1}');
    expect(Buffer.isBuffer(json)).toBe(true);
  });

  test('an empty body is undefined, whatever the method and content type', async () => {
    expect(await bodyOf('application/json', '')).toBeUndefined();
    expect(await bodyOf('text/plain', '', 'PUT')).toBeUndefined();
    expect(eventOf(await send(app.url, { method: 'POST' })).body).toBeUndefined();
    expect(eventOf(await send(app.url, { method: 'DELETE' })).body).toBeUndefined();
  });

  test('a GET body reaches the graph too', async () => {
    expect(await bodyOf('application/json', '{"q":1}', 'GET')).toEqual({ q: 1 });
  });
});

describe('bad bodies', () => {
  test('malformed JSON is 400 SG_ERR_BAD_JSON with the parser position', async () => {
    const cases: Array<[string, string]> = [
      ['{"a": 1,}', "unexpected '}' at position 8"],
      ['{"a": ', 'unexpected end of input at position 6'],
      ['[1, 2', 'unexpected end of input at position 5'],
      ['{"a" 1}', "unexpected '1' at position 5"],
      ['tru', 'unexpected end of input at position 3'],
      ['01', "unexpected '1' at position 1"],
      ['{"a":"x\ny"}', 'unexpected U+000A at position 7'],
      ['{} {}', "unexpected '{' at position 3"],
    ];
    for (const [text, where] of cases) {
      const res = await send(app.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
      const err = expectError(res, 400, 'SG_ERR_BAD_JSON');
      expect(err.message).toBe(`request body is not valid JSON: ${where}`);
    }
    await expectStillServes();
  });

  test('a __proto__ key, or a constructor holding prototype, anywhere: 400 SG_ERR_BAD_JSON', async () => {
    const bodies = [
      '{"__proto__":{"polluted":true}}',
      '{"a":[1,{"b":{"__proto__":null}}]}',
      '{"\\u005f_proto__":{}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      '[{"x":{"constructor":{"prototype":1}}}]',
    ];
    for (const body of bodies) {
      for (const type of ['application/json', undefined]) {
        const headers = type === undefined ? {} : { 'content-type': type };
        const res = await send(app.url, { method: 'POST', headers, body });
        expect(expectError(res, 400, 'SG_ERR_BAD_JSON').message).toMatch(/__proto__|constructor\.prototype/);
      }
    }
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    await expectStillServes();
  });

  test('an unknown charset is 400 SG_ERR_BAD_REQUEST', async () => {
    const res = await send(app.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=no-such-thing' },
      body: 'x',
    });
    expectError(res, 400, 'SG_ERR_BAD_REQUEST');
    await expectStillServes();
  });

  test('a Content-Length above bodyLimit is 413 SG_ERR_BODY_TOO_LARGE', async () => {
    const res = await send(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(4096, 1),
    });
    expectError(res, 413, 'SG_ERR_BODY_TOO_LARGE');
    const atLimit = await send(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(1024, 1),
    });
    expect((eventOf(atLimit).body as Buffer).length).toBe(1024);
    await expectStillServes();
  });

  test('a chunked body is cut off with 413 once it passes bodyLimit', async () => {
    const res = await sendChunked(app.url, [Buffer.alloc(600, 1), Buffer.alloc(600, 2), Buffer.alloc(600, 3)]);
    expectError(res, 413, 'SG_ERR_BODY_TOO_LARGE');
    const small = await sendChunked(app.url, [Buffer.alloc(300, 1), Buffer.alloc(300, 2)]);
    expect((eventOf(small).body as Buffer).length).toBe(600);
    await expectStillServes();
  });
});

/** POST with Transfer-Encoding: chunked, one write per chunk; the response may come before the last one. */
function sendChunked(url: string, chunks: Buffer[]): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      {
        host: hostname,
        port,
        method: 'POST',
        path: '/',
        agent: false,
        headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
      },
      (res) => {
        answered = true;
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const body = Buffer.concat(parts);
          const text = body.toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) });
        });
      },
    );
    // the server may close the connection while chunks are still being written: only a missing answer fails
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const writeNext = (i: number): void => {
      if (i === chunks.length) {
        req.end();
        return;
      }
      req.write(chunks[i], () => setTimeout(() => writeNext(i + 1), 20));
    };
    writeNext(0);
  });
}
