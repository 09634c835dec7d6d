import { afterEach, describe, expect, test } from 'vitest';
import { createGraph, type Event, FlatMap, MapStep, type MockServer, type Step } from '../../src/index.js';
import { quietServer, rejectsSg, sleep, throwsSg } from '../support/core.js';

const servers: MockServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** `fm -> sink` without a responder: the sink records every event it receives. */
function withSink(fm: Step) {
  const seen: Event[] = [];
  const bodies: unknown[] = [];
  const g = createGraph();
  g.to(fm).to(
    new MapStep({
      name: 'sink',
      fullEvent: true,
      handler: (ev: Event) => {
        seen.push(ev);
        bodies.push(structuredClone(ev.body));
        return ev;
      },
    }),
  );
  const server = quietServer(g);
  servers.push(server);
  return { server, seen, bodies };
}

/** `fm -> respond` */
function responding(fm: Step) {
  const g = createGraph();
  g.to(fm)
    .to(new MapStep({ name: 'r', handler: (b) => b }))
    .respond();
  const server = quietServer(g);
  servers.push(server);
  return server;
}

describe('FlatMap results', () => {
  const accepted: Array<[string, (b: number[]) => unknown]> = [
    ['an array', (b) => b],
    ['a Set', (b) => new Set(b)],
    ['a Map (entries)', (b) => new Map(b.map((x) => [x, x]))],
    [
      'a generator',
      function* (b) {
        yield* b;
      },
    ],
    [
      'an async generator',
      async function* (b) {
        for (const x of b) {
          await sleep(1);
          yield x;
        }
      },
    ],
    ['a promise of an array', async (b) => b],
    ['a promise of a Set', (b) => Promise.resolve(new Set(b))],
  ];
  for (const [what, handler] of accepted) {
    test(`${what}: one event per item, in order`, async () => {
      const { server, seen, bodies } = withSink(new FlatMap({ name: 'fm', handler: handler as never }));
      expect(await server.test('/', [1, 2, 3], { id: 'fm-1' })).toEqual({ id: 'fm-1' });
      expect(bodies).toEqual(
        what.startsWith('a Map')
          ? [
              [1, 1],
              [2, 2],
              [3, 3],
            ]
          : [1, 2, 3],
      );
      for (const ev of seen) expect(ev.id).toBe('fm-1');
    });
  }

  const refused: Array<[string, unknown, string]> = [
    ['a string', 'abc', '"abc"'],
    ['a promise of a string', Promise.resolve('abc'), '"abc"'],
    ['a number', 5, '5'],
    ['a plain object', { a: 1 }, 'an object'],
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
    ['a promise of a number', Promise.resolve(5), '5'],
    [
      'a promise of an async iterable',
      Promise.resolve(
        (async function* () {
          yield 1;
        })(),
      ),
      'AsyncGenerator',
    ],
  ];
  for (const [what, result, type] of refused) {
    test(`${what}: SG_ERR_FLATMAP_RESULT naming the type`, async () => {
      const server = responding(new FlatMap({ name: 'fm', handler: () => result as never }));
      const err = await rejectsSg(server.test('/', 1), 'SG_ERR_FLATMAP_RESULT');
      expect(err.step).toBe('fm');
      expect(err.status).toBe(500);
      expect(String(err.details.type)).toContain(type);
      expect(err.message).toContain("FlatMap 'fm'");
    });
  }

  test('an empty result drops the event: the reply is undefined', async () => {
    for (const handler of [() => [], () => new Set(), async () => [], async function* () {}]) {
      expect(await responding(new FlatMap({ name: 'fm', handler: handler as never })).test('/', 1)).toBeUndefined();
    }
  });

  test('the first item answers; failures are per event', async () => {
    const server = responding(
      new FlatMap({
        name: 'fm',
        handler: async (n: number) => {
          await sleep(n % 3);
          if (n % 4 === 0) return 'oops' as never;
          return [n, n + 1];
        },
      }),
    );
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => server.test('/', i)));
    results.forEach((r, i) => {
      if (i % 4 === 0) expect((r as PromiseRejectedResult).reason.code).toBe('SG_ERR_FLATMAP_RESULT');
      else expect(r).toEqual({ status: 'fulfilled', value: i });
    });
    expect(await server.test('/', 1)).toBe(1);
  });
});

describe('FlatMap items', () => {
  test('each item is a copy of the event with the item as body; items are handed on one at a time', async () => {
    const order: string[] = [];
    const g = createGraph();
    g.to(
      new FlatMap({
        name: 'fm',
        handler: function* (b: string[]) {
          for (const x of b) {
            order.push(`yield ${x}`);
            yield x;
          }
        },
      }),
    ).to(new MapStep({ name: 'sink', handler: (x: string) => order.push(`got ${x}`) }));
    const server = quietServer(g);
    servers.push(server);
    await server.test('/p', ['a', 'b'], { headers: { 'X-H': '1' } });
    expect(order).toEqual(['yield a', 'got a', 'yield b', 'got b']);
  });

  test('with resultPath each item is written into a deep copy of the body', async () => {
    const { server, seen, bodies } = withSink(
      new FlatMap({ name: 'fm', inputPath: 'doc.parts', resultPath: 'part.text', handler: (p: string[]) => p }),
    );
    const body = { doc: { parts: ['x', 'y'] }, shared: { n: 1 } };
    await server.test('/', body);
    expect(bodies).toEqual([
      { doc: { parts: ['x', 'y'] }, shared: { n: 1 }, part: { text: 'x' } },
      { doc: { parts: ['x', 'y'] }, shared: { n: 1 }, part: { text: 'y' } },
    ]);
    expect(seen[0].body).not.toBe(seen[1].body);
    expect((seen[0].body as typeof body).shared).not.toBe((seen[1].body as typeof body).shared);
    const primitive = responding(new FlatMap({ name: 'fm', resultPath: 'a', handler: () => [1] }));
    await rejectsSg(primitive.test('/', 5), 'SG_ERR_PATH_TARGET');
  });

  test('fullEvent: Event items are emitted as they are, other items become bodies of copies', async () => {
    const made: Event[] = [];
    const { server, seen } = withSink(
      new FlatMap({
        name: 'fm',
        fullEvent: true,
        handler: (ev: Event) => {
          const c = ev.copy({ body: 'event item' });
          made.push(c);
          return [c, 'plain item', ev];
        },
      }),
    );
    await server.test('/', 'orig', { id: 'full-1' });
    expect(seen).toHaveLength(3);
    expect(seen[0]).toBe(made[0]);
    expect(seen[1].body).toBe('plain item');
    expect(seen[1].id).toBe('full-1');
    expect(seen[2].body).toBe('orig');
  });

  test('an error while iterating fails the event after the items already handed on', async () => {
    const { server, bodies } = withSink(
      new FlatMap({
        name: 'fm',
        handler: async function* () {
          yield 1;
          throw new Error('mid-way');
        },
      }),
    );
    // no responder: the failure is logged, the request resolves { id }
    expect(await server.test('/', 0, { id: 'mid' })).toEqual({ id: 'mid' });
    expect(bodies).toEqual([1]);
    const r = responding(
      new FlatMap({
        name: 'fm',
        *handler() {
          if (Date.now() > 0) throw new Error('first');
          yield 1;
        },
      }),
    );
    await rejectsSg(r.test('/', 0), 'SG_ERR_STEP_FAILED');
  });

  test('options: unknown fields, streaming, missing handler', () => {
    throwsSg(() => new FlatMap({ handler: () => [], streaming: true } as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new FlatMap({ handler: () => [], other: 1 } as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new FlatMap({} as never), 'SG_ERR_INVALID_OPTION');
    expect(new FlatMap({ handler: async function* () {} }).streaming).toBe(false);
  });
});
