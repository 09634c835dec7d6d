import { afterEach, describe, expect, test } from 'vitest';
import { Batch, type BatchKey, createGraph, type Event, MapStep, type MockServer, SgError } from '../../src/index.js';
import { quietServer, rejectsSg, sleep, throwsSg } from '../support/core.js';

const servers: MockServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
});

/**
 * `batch -> double(respond)`: replies are twice the body; `calls` records each batch body, `keys`
 * each batch's key.
 */
function doubling(options: ConstructorParameters<typeof Batch>[0]) {
  const calls: unknown[][] = [];
  const keys: BatchKey[] = [];
  const g = createGraph();
  g.to(new Batch({ name: 'batch', ...options }))
    .to(
      new MapStep({
        name: 'double',
        fullEvent: true,
        handler: (ev: Event) => {
          const xs = ev.body as Array<{ v: number } | number>;
          calls.push(xs.map((x) => (typeof x === 'number' ? x : x.v)));
          keys.push(ev.batch?.key);
          return ev.copy({ body: xs.map((x) => (typeof x === 'number' ? x : x.v) * 2) });
        },
      }),
    )
    .respond();
  const server = quietServer(g);
  servers.push(server);
  return { server, calls, keys };
}

describe('Batch options (batching.md)', () => {
  test('invalid options throw SG_ERR_INVALID_OPTION naming the step, the field and what was expected', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ maxEvents: 0 }, "Batch 'batch': maxEvents must be an integer >= 1, got 0"],
      [{ maxEvents: -1 }, "Batch 'batch': maxEvents must be an integer >= 1, got -1"],
      [{ maxEvents: 1.5 }, "Batch 'batch': maxEvents must be an integer >= 1, got 1.5"],
      [{ maxEvents: '2' }, 'Batch \'batch\': maxEvents must be an integer >= 1, got "2"'],
      [{ maxEvents: Number.NaN }, "Batch 'batch': maxEvents must be an integer >= 1, got NaN"],
      [{ maxEvents: Number.POSITIVE_INFINITY }, "Batch 'batch': maxEvents must be an integer >= 1, got Infinity"],
      [{ flushAfterSeconds: -0.1 }, "Batch 'batch': flushAfterSeconds must be a finite number >= 0, got -0.1"],
      [
        { flushAfterSeconds: Number.POSITIVE_INFINITY },
        "Batch 'batch': flushAfterSeconds must be a finite number >= 0, got Infinity",
      ],
      [{ flushAfterSeconds: Number.NaN }, "Batch 'batch': flushAfterSeconds must be a finite number >= 0, got NaN"],
      [{ flushAfterSeconds: '1' }, 'Batch \'batch\': flushAfterSeconds must be a finite number >= 0, got "1"'],
      [{}, "Batch 'batch': set maxEvents, flushAfterSeconds or both"],
      [{ maxEvents: 2, fullEvent: 'yes' }, "Batch 'batch': fullEvent must be a boolean"],
      [{ maxEvents: 2, key: '' }, "Batch 'batch': key must be a non-empty string or a function"],
      [{ maxEvents: 2, key: 5 }, "Batch 'batch': key must be a non-empty string or a function"],
      [{ maxEvents: 2, key: {} }, "Batch 'batch': key must be a non-empty string or a function"],
      [{ maxEvents: 2, key: '$body' }, "Batch 'batch': key must be '$path', '$method', '$headers.<name>'"],
      [{ maxEvents: 2, key: '$headers.' }, "Batch 'batch': key must be '$path'"],
      [{ maxEvents: 2, key: 'a..b' }, "step 'batch': key must not have empty segments"],
      [{ maxEvents: 2, key: 'a.__proto__' }, "step 'batch': key may not contain the segment '__proto__'"],
      [{ maxEvents: 2, inputPath: 'a' }, "Batch 'batch': unknown option 'inputPath'"],
      [{ maxEvents: 2, resultPath: 'a' }, "Batch 'batch': unknown option 'resultPath'"],
      [{ maxEvents: 2, handler: () => 1 }, "Batch 'batch': unknown option 'handler'"],
      [{ maxEvents: 2, max_events: 2 }, "Batch 'batch': unknown option 'max_events'"],
    ];
    for (const [options, message] of cases) {
      const err = throwsSg(() => new Batch({ name: 'batch', ...options } as never), 'SG_ERR_INVALID_OPTION');
      expect(err.message).toContain(message);
      expect(err.step).toBe('batch');
    }
    throwsSg(() => new Batch(null as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new Batch({ name: 'a b', maxEvents: 1 }), 'SG_ERR_INVALID_OPTION');
  });

  test('valid options', () => {
    const b = new Batch({ maxEvents: 8, flushAfterSeconds: 0.01, fullEvent: true, key: '$headers.X-Tenant' });
    expect(b.name).toBe('Batch');
    expect(b.maxEvents).toBe(8);
    expect(b.flushAfterSeconds).toBe(0.01);
    expect(b.fullEvent).toBe(true);
    for (const key of ['$path', '$method', '$headers.x', 'topic', 'a.b.0', (ev: Event) => ev.path]) {
      expect(() => new Batch({ flushAfterSeconds: 0, key })).not.toThrow();
    }
  });
});

describe('when a batch is emitted', () => {
  test('size: the event that fills the batch emits it; the model is called once per batch', async () => {
    const { server, calls } = doubling({ maxEvents: 3 });
    const replies = await Promise.all([1, 2, 3, 4, 5, 6].map((x) => server.test('/', x)));
    expect(replies).toEqual([2, 4, 6, 8, 10, 12]);
    expect(calls).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  test('time: an open batch is emitted flushAfterSeconds after its first event, whatever its size', async () => {
    const { server, calls } = doubling({ maxEvents: 100, flushAfterSeconds: 0.5 });
    const started = Date.now();
    let settled = false;
    const replies = Promise.all([1, 2].map((x) => server.test('/', x))).then((r) => {
      settled = true;
      return r;
    });
    await sleep(150);
    expect(settled).toBe(false);
    expect(await replies).toEqual([2, 4]);
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeGreaterThan(0.3);
    expect(seconds).toBeLessThan(3);
    expect(calls).toEqual([[1, 2]]);
  });

  test('emitting by size cancels the deadline; the next event opens a new batch with a new deadline', async () => {
    const { server, calls } = doubling({ maxEvents: 2, flushAfterSeconds: 0.3 });
    expect(await Promise.all([server.test('/', 1), server.test('/', 2)])).toEqual([2, 4]);
    const started = Date.now();
    expect(await server.test('/', 3)).toBe(6);
    expect((Date.now() - started) / 1000).toBeLessThan(3);
    expect(calls).toEqual([[1, 2], [3]]);
  });

  test('flushAfterSeconds 0: events arriving before the setImmediate callback share the batch', async () => {
    const { server, calls } = doubling({ flushAfterSeconds: 0 });
    await server.ready();
    const first = [1, 2, 3].map((x) => server.test('/', x));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const second = [4, 5].map((x) => server.test('/', x));
    expect(await Promise.all([...first, ...second])).toEqual([2, 4, 6, 8, 10]);
    expect(calls).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  test('only maxEvents: a lone event waits for its group to fill', async () => {
    const { server } = doubling({ maxEvents: 2 });
    let settled = false;
    const one = server.test('/', 1).then((r) => {
      settled = true;
      return r;
    });
    await sleep(100);
    expect(settled).toBe(false);
    expect(await Promise.all([one, server.test('/', 2)])).toEqual([2, 4]);
  });

  test('a very long flushAfterSeconds does not fire early (timer overflow)', async () => {
    const { server } = doubling({ maxEvents: 2, flushAfterSeconds: 30 * 24 * 3600 });
    let settled = false;
    const one = server.test('/', 1).then((r) => {
      settled = true;
      return r;
    });
    await sleep(100);
    expect(settled).toBe(false);
    expect(await Promise.all([one, server.test('/', 2)])).toEqual([2, 4]);
  });

  test('emitting never waits for the previous batch to finish: batches run together', async () => {
    let running = 0;
    let maxRunning = 0;
    const g = createGraph();
    g.to(new Batch({ name: 'batch', maxEvents: 2 }))
      .to(
        new MapStep({
          name: 'slow',
          handler: async (xs: number[]) => {
            running++;
            maxRunning = Math.max(maxRunning, running);
            await sleep(30);
            running--;
            return xs;
          },
        }),
      )
      .respond();
    const server = quietServer(g);
    servers.push(server);
    expect(await Promise.all([1, 2, 3, 4, 5, 6].map((x) => server.test('/', x)))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(maxRunning).toBe(3);
  });
});

describe('groups (key)', () => {
  const sendAll = (server: MockServer, sends: Array<[string, unknown, Record<string, string>?, string?]>) =>
    Promise.all(sends.map(([path, body, headers, method]) => server.test(path, body, { headers, method })));

  test("'$path', '$method' and '$headers.<name>' (absent header: the undefined group)", async () => {
    const byPath = doubling({ maxEvents: 2, flushAfterSeconds: 0.05, key: '$path' });
    expect(
      await sendAll(byPath.server, [
        ['/a', 1],
        ['/b', 2],
        ['/a', 3],
        ['/b', 4],
      ]),
    ).toEqual([2, 4, 6, 8]);
    expect(byPath.calls).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(byPath.keys).toEqual(['/a', '/b']);

    const byMethod = doubling({ maxEvents: 2, flushAfterSeconds: 0.05, key: '$method' });
    await sendAll(byMethod.server, [
      ['/', 1, {}, 'put'],
      ['/', 2],
      ['/', 3, {}, 'PUT'],
      ['/', 4],
    ]);
    expect(byMethod.keys).toEqual(['PUT', 'POST']);

    const byHeader = doubling({ maxEvents: 2, flushAfterSeconds: 0.05, key: '$headers.X-Tenant' });
    await sendAll(byHeader.server, [
      ['/', 1, { 'x-tenant': 'acme' }],
      ['/', 2],
      ['/', 3, { 'X-TENANT': 'acme' }],
      ['/', 4],
    ]);
    expect(byHeader.calls).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(byHeader.keys).toEqual(['acme', undefined]);
  });

  test('a body path; SameValueZero: 1 and "1" are different groups; a missing field is undefined', async () => {
    const { server, calls, keys } = doubling({ maxEvents: 2, flushAfterSeconds: 0.1, key: 'meta.topic' });
    const bodies = [
      { v: 1, meta: { topic: 1 } },
      { v: 2, meta: { topic: '1' } },
      { v: 3, meta: { topic: 1 } },
      { v: 4 },
      { v: 5, meta: { topic: '1' } },
      { v: 6, meta: {} },
      { v: 7, meta: { topic: Number.NaN } },
      { v: 8, meta: { topic: Number.NaN } },
    ];
    expect(await Promise.all(bodies.map((b) => server.test('/', b)))).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
    expect(calls).toEqual([
      [1, 3],
      [2, 5],
      [4, 6],
      [7, 8],
    ]);
    expect(keys).toEqual([1, '1', undefined, Number.NaN]);
  });

  test('a key function; null, boolean and number keys', async () => {
    const { server, calls } = doubling({
      maxEvents: 2,
      flushAfterSeconds: 0.05,
      key: (ev: Event) => {
        const v = ev.body as number;
        return v % 3 === 0 ? null : v % 3 === 1;
      },
    });
    await Promise.all([1, 2, 3, 4, 5, 6].map((x) => server.test('/', x)));
    expect(calls).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });

  test('an object key fails that event with SG_ERR_BATCH_KEY (400), not the open batch', async () => {
    const { server, calls } = doubling({ maxEvents: 2, flushAfterSeconds: 0.05, key: 'k' });
    const results = await Promise.allSettled(
      [
        { v: 1, k: 'a' },
        { v: 2, k: { o: 1 } },
        { v: 3, k: [1] },
        { v: 4, k: 'a' },
      ].map((b) => server.test('/', b)),
    );
    expect(results[0]).toEqual({ status: 'fulfilled', value: 2 });
    expect(results[3]).toEqual({ status: 'fulfilled', value: 8 });
    for (const r of [results[1], results[2]]) {
      const err = (r as PromiseRejectedResult).reason as SgError;
      expect(err.code).toBe('SG_ERR_BATCH_KEY');
      expect(err.status).toBe(400);
      expect(err.step).toBe('batch');
    }
    expect(calls).toEqual([[1, 4]]);
    expect(await Promise.all([server.test('/', { v: 5, k: 'b' }), server.test('/', { v: 6, k: 'b' })])).toEqual([
      10, 12,
    ]);
  });

  test('a key function that throws fails that event with SG_ERR_STEP_FAILED naming the Batch', async () => {
    const { server, calls } = doubling({
      maxEvents: 2,
      flushAfterSeconds: 0.05,
      key: (ev: Event) => {
        const v = ev.body as number;
        if (v === 2) throw new Error('no key');
        if (v === 3) throw new SgError('SG_ERR_TENANT', 'unknown tenant');
        if (v === 4) return (() => 1) as never;
        return 'k';
      },
    });
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((x) => server.test('/', x)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as SgError).code))).toEqual([
      2,
      'SG_ERR_STEP_FAILED',
      'SG_ERR_TENANT',
      'SG_ERR_BATCH_KEY',
      10,
    ]);
    expect(((results[1] as PromiseRejectedResult).reason as SgError).step).toBe('batch');
    expect(((results[2] as PromiseRejectedResult).reason as SgError).step).toBe('batch');
    expect(calls).toEqual([[1, 5]]);
    await rejectsSg(server.test('/', 2), 'SG_ERR_STEP_FAILED');
  });
});
