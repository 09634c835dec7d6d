import { describe, expect, test } from 'vitest';
import { createGraph, createMockServer, MapStep, MockServer, Step } from '../../src/index.js';
import { deferred, quietServer, rejectsSg, sleep, throwsSg } from '../support/core.js';
import { echo, servers } from './mock-server-fixtures.js';

describe('createMockServer options', () => {
  test('invalid options throw SG_ERR_INVALID_OPTION and leave the graph free', () => {
    const g = createGraph();
    g.to(new MapStep({ name: 'a', handler: (b) => b }));
    for (const options of [
      { logLevel: 'loud' },
      { maxConcurrency: -1 },
      { maxConcurrency: 1.5 },
      { maxConcurrency: '2' },
      { unknown: true },
    ]) {
      throwsSg(() => createMockServer(g, options as never), 'SG_ERR_INVALID_OPTION');
    }
    expect(() => g.to(new MapStep({ name: 'b', handler: (b) => b }))).not.toThrow();
    const s = createMockServer(g, { logLevel: 'silent', maxConcurrency: 0 });
    expect(s).toBeInstanceOf(MockServer);
    servers.push(s);
  });
});

describe('test()', () => {
  test('the event: path, method default, lower-cased headers, id, query {}, contentType ""', async () => {
    const server = echo();
    const reply = (await server.test('/x/y', { q: 1 }, { headers: { 'X-User': 'ann', Accept: 'a/b' } })) as Record<
      string,
      unknown
    >;
    expect(reply).toMatchObject({
      body: { q: 1 },
      path: '/x/y',
      method: 'POST',
      headers: { 'x-user': 'ann', accept: 'a/b' },
      query: {},
      contentType: '',
      ts: true,
    });
    expect(reply.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await server.test()).toMatchObject({ path: '/', method: 'GET', body: undefined, headers: {} });
    expect(await server.test('', null)).toMatchObject({ path: '/', method: 'POST', body: null });
    expect(await server.test('/', 'raw "json"', { method: 'put', id: 'my-id' })).toMatchObject({
      id: 'my-id',
      method: 'PUT',
      body: 'raw "json"',
    });
    expect(await server.test('/', undefined, { method: 'DELETE' })).toMatchObject({ method: 'DELETE' });
    const ids = await Promise.all([1, 2, 3].map(() => server.test('/', 1)));
    expect(new Set(ids.map((r) => (r as { id: string }).id)).size).toBe(3);
  });

  test('invalid arguments reject with SG_ERR_INVALID_OPTION; nothing is sent', async () => {
    let calls = 0;
    const g = createGraph();
    g.to(new MapStep({ name: 'a', handler: () => ++calls })).respond();
    const server = quietServer(g);
    servers.push(server);
    const bad: Array<[unknown, unknown]> = [
      ['x', undefined],
      [5, undefined],
      [null, undefined],
      ['/', 'options'],
      ['/', []],
      ['/', { method: 'GE T' }],
      ['/', { method: 5 }],
      ['/', { id: '' }],
      ['/', { id: 5 }],
      ['/', { headers: [] }],
      ['/', { headers: null }],
      ['/', { headers: { a: 1 } }],
      ['/', { bogus: 1 }],
      ['/', { fullEvent: true }],
    ];
    for (const [path, options] of bad) {
      const err = await rejectsSg(server.test(path as string, {}, options as never), 'SG_ERR_INVALID_OPTION');
      expect(err.message).toMatch(/^test\(\): /);
    }
    expect(calls).toBe(0);
    expect(await server.test('/', {}, {})).toBe(1);
  });

  test('test() waits for ready(): a slow init delays, never fails, the first events', async () => {
    const gate = deferred();
    class Slow extends Step {
      async init() {
        await gate.promise;
      }
      override do(b: unknown) {
        return b;
      }
    }
    const g = createGraph();
    g.to(new Slow({ name: 'slow' })).respond();
    const server = quietServer(g);
    servers.push(server);
    const replies = Promise.all([server.test('/', 1), server.test('/', 2)]);
    await sleep(10);
    gate.resolve();
    await server.ready();
    expect(await replies).toEqual([1, 2]);
  });

  test('test() resolves once the reply is decided; the rest of the work continues and close() waits for it', async () => {
    const gate = deferred();
    let after = false;
    const g = createGraph();
    g.to(new MapStep({ name: 'r', handler: (b) => b }))
      .respond()
      .to(
        new MapStep({
          name: 'after',
          handler: async () => {
            await gate.promise;
            after = true;
          },
        }),
      );
    const server = quietServer(g);
    expect(await server.test('/', 'x')).toBe('x');
    expect(after).toBe(false);
    const closing = server.close();
    await sleep(10);
    gate.resolve();
    await closing;
    expect(after).toBe(true);
  });
});
