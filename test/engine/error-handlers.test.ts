import { describe, expect, test } from 'vitest';
import { createGraph, type Event, Filter, MapStep, SgError } from '../../src/index.js';
import { mixedLoad, rejectsSg, sleep, useServers } from '../support/core.js';

type Body = Record<string, unknown>;
const serve = useServers();

/** Fails (asynchronously for odd n) when body.n is a multiple of 3; otherwise adds `parsed: true`. */
const parse = new MapStep({
  name: 'parse',
  handler: async (b: { n: number }) => {
    if (b.n % 2 === 1) await sleep(1);
    if (b.n % 3 === 0) throw new Error(`cannot parse ${b.n}`);
    return { ...b, parsed: true };
  },
});
const describeError = (name: string) =>
  new MapStep({
    name,
    fullEvent: true,
    handler: (ev: Event) => ({ handledBy: name, code: ev.error?.code, origin: ev.originStep, body: ev.body }),
  });

describe('error handlers (graph.md section 9)', () => {
  test('a step handler without before answers in the responder place; others are not disturbed', async () => {
    const g = createGraph();
    const p = g.to(new MapStep({ name: 'p', handler: parse.handler as never }));
    p.errorHandler(describeError('catch'));
    p.to(new MapStep({ name: 'answer', handler: (b: Body) => ({ ...b, answered: true }) })).respond();
    const server = serve(g);
    expect(await server.test('/', { n: 3 })).toEqual({
      handledBy: 'catch',
      code: 'SG_ERR_STEP_FAILED',
      origin: 'p',
      body: { n: 3 },
    });
    await mixedLoad(
      server,
      60,
      (n) => ({ n }),
      () => false,
      '',
      (n) =>
        n % 3 === 0
          ? { handledBy: 'catch', code: 'SG_ERR_STEP_FAILED', origin: 'p', body: { n } }
          : { n, parsed: true, answered: true },
    );
  });

  test('with before, the handler output continues to the before steps and the responder answers', async () => {
    const g = createGraph();
    const pre = g.to(new MapStep({ name: 'pre', handler: parse.handler as never }));
    pre.errorHandler(
      new MapStep({ name: 'fallback', fullEvent: true, handler: (ev: Event) => ({ fallback: ev.originStep }) }),
      { before: 'answer' },
    );
    pre.to(new MapStep({ name: 'answer', handler: (b: Body) => ({ ...b, answered: true }) })).respond();
    const server = serve(g);
    expect(await server.test('/', { n: 6 })).toEqual({ fallback: 'pre', answered: true });
    expect(await server.test('/', { n: 1 })).toEqual({ n: 1, parsed: true, answered: true });
  });

  test('the graph-level handler takes failures of steps without a handler of their own', async () => {
    const g = createGraph();
    const a = g.to(new MapStep({ name: 'a', handler: parse.handler as never }));
    const b = a.to(
      new MapStep({
        name: 'b',
        handler: (x: Body) => {
          if (x.n === 4) throw new SgError('SG_ERR_FOUR', 'four', { details: { n: 4 } });
          return x;
        },
      }),
    );
    b.errorHandler(describeError('own'));
    b.to(new MapStep({ name: 'r', handler: (x) => x })).respond();
    g.errorHandler(describeError('last-resort'));
    const server = serve(g);
    expect(await server.test('/', { n: 3 })).toMatchObject({ handledBy: 'last-resort', origin: 'a' });
    expect(await server.test('/', { n: 4 })).toMatchObject({
      handledBy: 'own',
      code: 'SG_ERR_FOUR',
      origin: 'b',
      body: { n: 4, parsed: true },
    });
    expect(await server.test('/', { n: 5 })).toEqual({ n: 5, parsed: true });
  });

  test('a handler for a side-branch failure does not answer; the responder does', async () => {
    const handled: unknown[] = [];
    const g = createGraph();
    const a = g.to(new MapStep({ name: 'a', handler: (b) => b }));
    a.to(
      new MapStep({
        name: 'side',
        handler: () => {
          throw new Error('side');
        },
      }),
    ).errorHandler(
      new MapStep({
        name: 'side-catch',
        fullEvent: true,
        handler: (ev: Event) => {
          handled.push(ev.originStep);
          return 'from handler';
        },
      }),
    );
    a.to(
      new MapStep({
        name: 'r',
        handler: async (b: number) => {
          await sleep(5);
          return b + 1;
        },
      }),
    ).respond();
    expect(await serve(g).test('/', 1)).toBe(2);
    expect(handled).toEqual(['side']);
  });

  test('one handler serving several steps answers only for those that reach the responder', async () => {
    const g = createGraph();
    const h = describeError('h');
    const a = g.to(
      new MapStep({
        name: 'a',
        handler: (b: Body) => {
          if (b.failAt === 'a') throw new Error('a');
          return b;
        },
      }),
    );
    a.errorHandler(h);
    const side = a.to(
      new MapStep({
        name: 'side',
        handler: (b: Body) => {
          if (b.failAt === 'side') throw new Error('side');
          return b;
        },
      }),
    );
    side.errorHandler(h);
    a.to(new MapStep({ name: 'r', handler: (b: Body) => ({ ...b, ok: true }) })).respond();
    const server = serve(g);
    expect(await server.test('/', { failAt: 'a' })).toMatchObject({ handledBy: 'h', origin: 'a' });
    expect(await server.test('/', { failAt: 'side' })).toEqual({ failAt: 'side', ok: true });
  });

  test('the handler gets the event as it entered the failing step; fullEvent false gives the body', async () => {
    let seen: Event | undefined;
    let seenBody: unknown;
    const g = createGraph();
    g.to(new MapStep({ name: 'set', handler: () => ({ a: { b: 1 } }) }))
      .to(
        new MapStep({
          name: 'fail',
          inputPath: 'a',
          resultPath: 'a.c',
          handler: () => {
            throw new TypeError('nope');
          },
        }),
      )
      .errorHandler(
        new MapStep({
          name: 'h',
          fullEvent: true,
          handler: (ev: Event) => {
            seen = ev;
            seenBody = structuredClone(ev.body);
            return 'handled';
          },
        }),
      )
      .respond();
    expect(await serve(g).test('/', null, { id: 'e-1', headers: { 'X-A': '1' } })).toBe('handled');
    expect(seenBody).toEqual({ a: { b: 1 } });
    expect(seen?.id).toBe('e-1');
    expect(seen?.headers).toEqual({ 'x-a': '1' });
    expect(seen?.originStep).toBe('fail');
    expect(seen?.error).toBeInstanceOf(SgError);
    expect(seen?.error?.code).toBe('SG_ERR_STEP_FAILED');
    expect(seen?.error?.step).toBe('fail');
    expect(seen?.error?.cause).toBeInstanceOf(TypeError);

    const g2 = createGraph();
    g2.to(
      new MapStep({
        name: 'fail',
        handler: () => {
          throw new Error('x');
        },
      }),
    )
      .errorHandler(new MapStep({ name: 'h', handler: (body: unknown) => ({ gotBody: body }) }))
      .respond();
    expect(await serve(g2).test('/', { q: 1 })).toEqual({ gotBody: { q: 1 } });
  });

  test("the responder's own failure: its handler without before answers", async () => {
    const g = createGraph();
    g.to(new MapStep({ name: 'a', handler: (b) => b }))
      .to(
        new MapStep({
          name: 'r',
          handler: (b: number) => {
            if (b < 0) throw new Error('negative');
            return b;
          },
        }),
      )
      .respond()
      .errorHandler(describeError('h'));
    const server = serve(g);
    expect(await server.test('/', -1)).toMatchObject({ handledBy: 'h', origin: 'r', body: -1 });
    expect(await server.test('/', 1)).toBe(1);
  });

  test('without a responder a handler runs, and test() still resolves { id }', async () => {
    const ran: string[] = [];
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'a',
        handler: () => {
          throw new Error('x');
        },
      }),
    ).errorHandler(new MapStep({ name: 'h', handler: () => ran.push('h') }));
    expect(await serve(g).test('/', 1, { id: 'nr' })).toEqual({ id: 'nr' });
    expect(ran).toEqual(['h']);
  });

  test('Filter failures reach handlers too', async () => {
    const g = createGraph();
    g.to(
      new Filter({
        name: 'f',
        handler: async () => {
          throw new Error('filter');
        },
      }),
    )
      .errorHandler(describeError('h'))
      .to(new MapStep({ name: 'r', handler: (b) => b }))
      .respond();
    expect(await serve(g).test('/', 1)).toMatchObject({ handledBy: 'h', origin: 'f', body: 1 });
  });

  test('a handler that throws fails the event; no other handler is tried; others are not disturbed', async () => {
    const tried: string[] = [];
    const g = createGraph();
    const a = g.to(
      new MapStep({
        name: 'a',
        handler: (b: number) => {
          if (b % 2 === 0) throw new Error('even');
          return b;
        },
      }),
    );
    a.errorHandler(
      new MapStep({
        name: 'bad-handler',
        handler: async (b: number) => {
          await sleep(b % 3);
          tried.push('bad-handler');
          if (b % 4 === 0) throw new SgError('SG_ERR_HANDLER_OWN', 'own code', { details: { b } });
          throw new Error('handler broke');
        },
      }),
    );
    a.to(new MapStep({ name: 'r', handler: (b: number) => b * 10 })).respond();
    g.errorHandler(
      new MapStep({
        name: 'graph-handler',
        handler: () => {
          tried.push('graph-handler');
          return 'never';
        },
      }),
    );
    const server = serve(g);
    const err = await rejectsSg(server.test('/', 2), 'SG_ERR_STEP_FAILED');
    expect(err.step).toBe('bad-handler');
    expect((err.cause as Error).message).toBe('handler broke');
    const own = await rejectsSg(server.test('/', 4), 'SG_ERR_HANDLER_OWN');
    expect(own.step).toBe('bad-handler');
    expect(own.details).toEqual({ b: 4 });
    expect(tried).toEqual(['bad-handler', 'bad-handler']);
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => server.test('/', i)));
    results.forEach((r, i) => {
      if (i % 2 === 1) expect(r).toEqual({ status: 'fulfilled', value: i * 10 });
      else
        expect((r as PromiseRejectedResult).reason.code).toBe(
          i % 4 === 0 ? 'SG_ERR_HANDLER_OWN' : 'SG_ERR_STEP_FAILED',
        );
    });
    expect(tried).not.toContain('graph-handler');
  });

  test('a handler answering after the reply was decided is ignored', async () => {
    const g = createGraph();
    const a = g.to(new MapStep({ name: 'a', handler: (b) => b }));
    a.to(
      new MapStep({
        name: 'slow-fail',
        handler: async () => {
          await sleep(10);
          throw new Error('late');
        },
      }),
    )
      .errorHandler(describeError('h'))
      .to(new MapStep({ name: 'r', handler: (b) => b }))
      .respond();
    a.to(new MapStep({ name: 'fast', handler: () => 'fast' })).to(g.steps.get('r')!);
    expect(await serve(g).test('/', 0)).toBe('fast');
  });

  test('without any handler the event fails; the graph keeps serving', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'a',
        handler: (b: number) => {
          if (b < 0) throw new Error('negative');
          return b;
        },
      }),
    ).respond();
    const server = serve(g);
    await rejectsSg(server.test('/', -1), 'SG_ERR_STEP_FAILED');
    expect(await server.test('/', 1)).toBe(1);
  });
});
