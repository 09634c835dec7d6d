import { describe, expect, test } from 'vitest';
import { createGraph, type Event, Filter, MapStep, type Step, type StepContext } from '../../src/index.js';
import { mixedLoad, rejectsSg, sleep, throwsSg, useServers } from '../support/core.js';

const serve = useServers();

/** A graph `step -> probe(respond)`, where probe answers { body } so that undefined bodies stay visible. */
function probe(step: Step) {
  const g = createGraph();
  g.to(step)
    .to(new MapStep({ name: 'probe', fullEvent: true, handler: (ev: Event) => ({ body: ev.body }) }))
    .respond();
  return serve(g);
}

describe('MapStep', () => {
  test('sync and async handlers; ctx is { event, signal }', async () => {
    let ctxSeen: StepContext | undefined;
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'sync',
        handler: (b: number, ctx: StepContext) => {
          ctxSeen = ctx;
          return b + 1;
        },
      }),
    )
      .to(
        new MapStep({
          name: 'async',
          handler: async (b: number) => {
            await sleep(1);
            return b * 10;
          },
        }),
      )
      .to(
        new MapStep({
          name: 'thenable',
          handler: (b: number) => ({ then: (r: (v: number) => void) => r(b + 5) }) as unknown as Promise<number>,
        }),
      )
      .respond();
    const server = serve(g);
    expect(await server.test('/', 1, { id: 'ctx-1' })).toBe(25);
    expect(ctxSeen?.event.id).toBe('ctx-1');
    expect(ctxSeen?.signal).toBeInstanceOf(AbortSignal);
    expect(ctxSeen?.signal.aborted).toBe(false);
  });

  test('undefined is a valid output', async () => {
    expect(await probe(new MapStep({ name: 'm', handler: () => undefined })).test('/', 1)).toEqual({
      body: undefined,
    });
  });

  test('fullEvent: an Event returned continues; any other value becomes the body', async () => {
    const same = new MapStep({
      name: 'm',
      fullEvent: true,
      handler: (ev: Event) => {
        ev.body = { changed: ev.body };
        return ev;
      },
    });
    expect(await probe(same).test('/', 1)).toEqual({ body: { changed: 1 } });
    const copy = new MapStep({ name: 'm', fullEvent: true, handler: (ev: Event) => ev.copy({ body: 'copy' }) });
    expect(await probe(copy).test('/', 1)).toEqual({ body: 'copy' });
    const value = new MapStep({
      name: 'm',
      fullEvent: true,
      handler: (ev: Event) => ({ path: ev.path, m: ev.method }),
    });
    expect(await probe(value).test('/p', 1)).toEqual({ body: { path: '/p', m: 'POST' } });
    const asyncEv = new MapStep({
      name: 'm',
      fullEvent: true,
      handler: async (ev: Event) => {
        await sleep(1);
        return ev.copy({ body: 'async copy' });
      },
    });
    expect(await probe(asyncEv).test('/', 1)).toEqual({ body: 'async copy' });
  });

  test('an event copy keeps id, path, method, headers, timestamp and deep-copies meta', async () => {
    let pair: [Event, Event] | undefined;
    const step = new MapStep({
      name: 'm',
      fullEvent: true,
      handler: (ev: Event) => {
        ev.meta.a = { n: 1 };
        const c = ev.copy();
        pair = [ev, c];
        return c;
      },
    });
    await probe(step).test('/x', { b: 1 }, { headers: { H: 'v' }, id: 'copy-id' });
    const [ev, c] = pair!;
    expect(c).not.toBe(ev);
    for (const k of ['id', 'path', 'method', 'headers', 'query', 'contentType'] as const) expect(c[k]).toEqual(ev[k]);
    expect(c.timestamp.getTime()).toBe(ev.timestamp.getTime());
    expect(c.meta).toEqual({ a: { n: 1 } });
    expect(c.meta.a).not.toBe(ev.meta.a);
    expect(c.body).not.toBe(ev.body);
  });

  test('a throwing or rejecting handler fails the event with SG_ERR_STEP_FAILED; others are not disturbed', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'm',
        handler: async (b: number) => {
          await sleep(b % 3);
          if (b % 5 === 0) throw new Error(`five ${b}`);
          return b + 1;
        },
      }),
    ).respond();
    const server = serve(g);
    await mixedLoad(
      server,
      50,
      (i) => i,
      (i) => i % 5 === 0,
      'SG_ERR_STEP_FAILED',
      (i) => i + 1,
    );
    expect(await server.test('/', 1)).toBe(2);
  });

  test('a non-streaming MapStep returning an async iterable fails with SG_ERR_STREAM_UNDECLARED', async () => {
    async function* gen() {
      yield 1;
    }
    const g = createGraph();
    g.to(new MapStep({ name: 'm', handler: () => gen(), streaming: false })).respond();
    const err = await rejectsSg(serve(g).test('/', 1), 'SG_ERR_STREAM_UNDECLARED');
    expect(err.step).toBe('m');
  });

  test('options: unknown fields, and a handler that is not a function or a string', () => {
    const h = (x: unknown) => x;
    throwsSg(() => new MapStep({ handler: h, foo: 1 }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new MapStep({ handler: h, input_path: 'a' }), 'SG_ERR_INVALID_OPTION');
    for (const handler of [undefined, 5, '', null, {}, class X {}]) {
      const err = throwsSg(() => new MapStep({ name: 'm', handler: handler as never }), 'SG_ERR_INVALID_OPTION');
      expect(err.details.field).toBe('handler');
    }
    throwsSg(() => new MapStep(undefined as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new MapStep(null as never), 'SG_ERR_INVALID_OPTION');
    expect(new MapStep({ handler: './x.js#y' }).handler).toBe('./x.js#y');
  });
});

describe('Filter', () => {
  test('truthy results pass the event unchanged, falsy ones drop it', async () => {
    for (const [result, passes] of [
      [true, true],
      [1, true],
      ['x', true],
      [{}, true],
      [[], true],
      [false, false],
      [0, false],
      ['', false],
      [null, false],
      [undefined, false],
      [Number.NaN, false],
    ] as const) {
      const server = probe(new Filter({ name: 'f', handler: () => result }));
      expect(await server.test('/', { v: 1 }), String(result)).toEqual(passes ? { body: { v: 1 } } : undefined);
    }
  });

  test('async results, inputPath, and fullEvent get the event; the emitted event is unchanged', async () => {
    const asyncF = probe(
      new Filter({
        name: 'f',
        handler: async (b: number) => {
          await sleep(1);
          return b > 2;
        },
      }),
    );
    expect(await asyncF.test('/', 3)).toEqual({ body: 3 });
    expect(await asyncF.test('/', 1)).toBeUndefined();
    const pathF = probe(new Filter({ name: 'f', inputPath: 'a.ok', handler: (ok: boolean) => ok }));
    expect(await pathF.test('/', { a: { ok: true } })).toEqual({ body: { a: { ok: true } } });
    expect(await pathF.test('/', { a: {} })).toBeUndefined();
    let received: unknown;
    const full = probe(
      new Filter({
        name: 'f',
        fullEvent: true,
        handler: (ev: Event) => {
          received = ev.body;
          return ev.headers['x-keep'] === 'yes';
        },
      }),
    );
    expect(await full.test('/', 'b', { headers: { 'X-Keep': 'yes' } })).toEqual({ body: 'b' });
    expect(received).toBe('b');
    expect(await full.test('/', 'b')).toBeUndefined();
  });

  test('resultPath is not accepted; unknown options are refused', () => {
    throwsSg(() => new Filter({ handler: () => true, resultPath: 'a' } as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new Filter({ handler: () => true, streaming: true } as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new Filter({ handler: 'x', bogus: 1 } as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new Filter({} as never), 'SG_ERR_INVALID_OPTION');
  });

  test('a failing filter fails only its event', async () => {
    const server = probe(
      new Filter({
        name: 'f',
        handler: async (b: number) => {
          await sleep(b % 2);
          if (b % 4 === 0) throw new Error('four');
          return b % 4 !== 1;
        },
      }),
    );
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => server.test('/', i)));
    results.forEach((r, i) => {
      if (i % 4 === 0) expect((r as PromiseRejectedResult).reason.code).toBe('SG_ERR_STEP_FAILED');
      else expect(r).toEqual({ status: 'fulfilled', value: i % 4 === 1 ? undefined : { body: i } });
    });
  });
});
