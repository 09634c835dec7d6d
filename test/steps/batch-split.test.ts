import { afterEach, describe, expect, test } from 'vitest';
import {
  Batch,
  createGraph,
  type Event,
  FlatMap,
  MapStep,
  type MockServer,
  SgError,
  type StepContext,
} from '../../src/index.js';
import { deferred, quietServer, sleep } from '../support/core.js';

const servers: MockServer[] = [];
const serve = (g: ReturnType<typeof createGraph>) => {
  const s = quietServer(g);
  servers.push(s);
  return s;
};
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
});

const settle = (ps: Promise<unknown>[]) =>
  Promise.allSettled(ps).then((rs) => rs.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as SgError).code)));

describe('the batch event (batching.md)', () => {
  test('fields: new id, bodies in arrival order, headers {}, first member path/method, batch info', async () => {
    let batchEv: Event | undefined;
    const members: Event[] = [];
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'pre',
        fullEvent: true,
        handler: (ev: Event) => {
          members.push(ev);
          return ev;
        },
      }),
    )
      .to(new Batch({ name: 'batch', maxEvents: 3, key: '$path' }))
      .to(
        new MapStep({
          name: 'look',
          fullEvent: true,
          handler: (ev: Event) => {
            batchEv = ev;
            return ev;
          },
        }),
      )
      .respond();
    const server = serve(g);
    const opts = (id: string, method?: string) => ({ id, method, headers: { 'X-N': id } });
    const replies = await Promise.all([
      server.test('/p', { n: 1 }, opts('m1', 'PUT')),
      server.test('/p', { n: 2 }, opts('m2')),
      server.test('/p', { n: 3 }, opts('m3')),
    ]);
    expect(replies).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const ev = batchEv!;
    expect(ev.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(['m1', 'm2', 'm3']).not.toContain(ev.id);
    expect(ev.body).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(ev.path).toBe('/p');
    expect(ev.method).toBe('PUT');
    expect(ev.contentType).toBe('');
    expect(ev.headers).toEqual({});
    expect(ev.query).toEqual({});
    expect(ev.meta).toEqual({});
    expect(ev.batch).toEqual({ size: 3, key: '/p', ids: ['m1', 'm2', 'm3'] });
    expect(ev.timestamp.getTime()).toBeGreaterThanOrEqual(members[0].timestamp.getTime());
    // members keep their own fields; only batch events have a batch field
    expect(members.map((m) => m.headers['x-n'])).toEqual(['m1', 'm2', 'm3']);
    for (const m of members) expect(m.batch).toBeUndefined();
  });

  test('fullEvent: the batch body holds the member events themselves', async () => {
    const g = createGraph();
    g.to(new Batch({ name: 'batch', maxEvents: 2, fullEvent: true }))
      .to(
        new MapStep({
          name: 'touch',
          handler: (evs: Event[]) => {
            for (const e of evs) e.body = { id: e.id, was: e.body };
            return evs;
          },
        }),
      )
      .respond();
    const server = serve(g);
    expect(await Promise.all([server.test('/', 'a', { id: 'x' }), server.test('/', 'b', { id: 'y' })])).toEqual([
      { id: 'x', was: 'a' },
      { id: 'y', was: 'b' },
    ]);
  });

  test('a following fullEvent step gets the batch event; the model sees one call per batch', async () => {
    const sizes: number[] = [];
    const g = createGraph();
    g.to(new Batch({ name: 'batch', maxEvents: 4, flushAfterSeconds: 0.02 }))
      .to(
        new MapStep({
          name: 'model',
          fullEvent: true,
          handler: (ev: Event, ctx: StepContext) => {
            expect(ctx.signal.aborted).toBe(false);
            sizes.push(ev.batch!.size);
            return ev.copy({ body: (ev.body as number[]).map((x) => -x) });
          },
        }),
      )
      .respond();
    const server = serve(g);
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => server.test('/', i)));
    expect(replies).toEqual(Array.from({ length: 10 }, (_, i) => -i));
    expect(sizes).toEqual([4, 4, 2]);
  });
});

describe('split at the responder', () => {
  const graph = (handler: (xs: number[]) => unknown) => {
    const g = createGraph();
    g.to(new Batch({ name: 'batch', maxEvents: 3 }))
      .to(new MapStep({ name: 'model', handler }))
      .respond();
    return serve(g);
  };

  test('a wrong length or a non-array fails every member with SG_ERR_BATCH_SIZE_MISMATCH', async () => {
    const short = graph((xs) => xs.slice(1));
    const rs = await Promise.allSettled([1, 2, 3].map((x) => short.test('/', x)));
    for (const r of rs) {
      const err = (r as PromiseRejectedResult).reason as SgError;
      expect(err.code).toBe('SG_ERR_BATCH_SIZE_MISMATCH');
      expect(err.status).toBe(500);
      expect(err.step).toBe('model');
      expect(err.message).toContain('2 items for a batch of 3');
    }
    const notArray = graph(() => ({ not: 'an array' }));
    expect(await settle([1, 2, 3].map((x) => notArray.test('/', x)))).toEqual(
      Array(3).fill('SG_ERR_BATCH_SIZE_MISMATCH'),
    );
  });

  test('a per-item Error fails only that member; an SgError keeps its code', async () => {
    const server = graph((xs) =>
      xs.map((x) => (x === 2 ? new RangeError('two') : x === 3 ? new SgError('SG_ERR_ITEM', 'three') : x * 10)),
    );
    const rs = await Promise.allSettled([1, 2, 3].map((x) => server.test('/', x)));
    expect(rs[0]).toEqual({ status: 'fulfilled', value: 10 });
    const two = (rs[1] as PromiseRejectedResult).reason as SgError;
    expect(two.code).toBe('SG_ERR_STEP_FAILED');
    expect(two.step).toBe('model');
    expect(two.cause).toBeInstanceOf(RangeError);
    expect(((rs[2] as PromiseRejectedResult).reason as SgError).code).toBe('SG_ERR_ITEM');
    expect(await Promise.all([4, 5, 6].map((x) => server.test('/', x)))).toEqual([40, 50, 60]);
  });

  test('without a responder each member resolves { id } with its own id once the batch has finished', async () => {
    const done = deferred();
    const g = createGraph();
    g.to(new Batch({ name: 'batch', maxEvents: 2 })).to(new MapStep({ name: 'slow', handler: () => done.promise }));
    const server = serve(g);
    const replies = Promise.all([server.test('/', 1, { id: 'a' }), server.test('/', 2, { id: 'b' })]);
    let settled = false;
    void replies.then(() => (settled = true));
    await sleep(20);
    expect(settled).toBe(false);
    done.resolve();
    expect(await replies).toEqual([{ id: 'a' }, { id: 'b' }]);
  });
});

describe('split with FlatMap', () => {
  test("the seed's pattern: a fullEvent Batch, a step, a fullEvent FlatMap returning the member events", async () => {
    const g = createGraph();
    g.to(new Batch({ name: 'batching', maxEvents: 2, flushAfterSeconds: 0.05, fullEvent: true }))
      .to(
        new MapStep({
          name: 'model',
          handler: (evs: Event[]) => {
            for (const e of evs) e.body = { ...(e.body as object), output: (e.body as { q: string }).q.toUpperCase() };
            return evs;
          },
        }),
      )
      .to(new FlatMap({ name: 'split', fullEvent: true, handler: (batch: Event) => batch.body as Event[] }))
      .respond();
    const server = serve(g);
    const qs = ['a', 'b', 'c', 'd', 'e'];
    expect(await Promise.all(qs.map((q) => server.test('/', { q })))).toEqual(
      qs.map((q) => ({ q, output: q.toUpperCase() })),
    );
  });

  test('a subset of the member events: the others are answered undefined', async () => {
    const g = createGraph();
    g.to(new Batch({ name: 'batch', maxEvents: 3, fullEvent: true }))
      .to(new FlatMap({ name: 'split', fullEvent: true, handler: (b: Event) => (b.body as Event[]).slice(1) }))
      .to(new MapStep({ name: 'r', handler: (x: number) => x + 100 }))
      .respond();
    const server = serve(g);
    expect(await Promise.all([1, 2, 3].map((x) => server.test('/', x)))).toEqual([undefined, 102, 103]);
  });

  test('exactly size items of another kind bind item i to member i', async () => {
    const seen: Event[] = [];
    const g = createGraph();
    g.to(new Batch({ name: 'batch', maxEvents: 3 }))
      .to(new FlatMap({ name: 'split', handler: (xs: number[]) => xs.map((x) => ({ doubled: x * 2 })) }))
      .to(
        new MapStep({
          name: 'r',
          fullEvent: true,
          handler: (ev: Event) => {
            seen.push(ev);
            return ev;
          },
        }),
      )
      .respond();
    const server = serve(g);
    const replies = await Promise.all(
      [1, 2, 3].map((x) => server.test(`/p${x}`, x, { id: `id${x}`, headers: { 'X-M': `${x}` } })),
    );
    expect(replies).toEqual([{ doubled: 2 }, { doubled: 4 }, { doubled: 6 }]);
    expect(seen.map((e) => [e.id, e.path, e.headers['x-m'], e.batch])).toEqual([
      ['id1', '/p1', '1', undefined],
      ['id2', '/p2', '2', undefined],
      ['id3', '/p3', '3', undefined],
    ]);
  });

  test('any other count fails every member with SG_ERR_BATCH_SIZE_MISMATCH, and nothing is emitted', async () => {
    let emitted = 0;
    const g = createGraph();
    g.to(new Batch({ name: 'batch', maxEvents: 4 }))
      .to(new FlatMap({ name: 'split', handler: (xs: number[]) => xs.slice(0, 3) }))
      .to(
        new MapStep({
          name: 'r',
          handler: (x) => {
            emitted++;
            return x;
          },
        }),
      )
      .respond();
    const server = serve(g);
    const rs = await Promise.allSettled([1, 2, 3, 4].map((x) => server.test('/', x)));
    for (const r of rs) {
      const err = (r as PromiseRejectedResult).reason as SgError;
      expect(err.code).toBe('SG_ERR_BATCH_SIZE_MISMATCH');
      expect(err.message).toBe("FlatMap 'split' returned 3 items for a batch of 4");
    }
    expect(emitted).toBe(0);
  });

  test('a per-item Error fails that member at the FlatMap, through its error handler', async () => {
    const handled: Array<[string, string | undefined, string | undefined]> = [];
    const g = createGraph();
    const split = g.to(new Batch({ name: 'batch', maxEvents: 3 })).to(
      new FlatMap({
        name: 'split',
        handler: (xs: number[]) => xs.map((x) => (x === 2 ? new Error('bad item') : x)),
      }),
    );
    split.errorHandler(
      new MapStep({
        name: 'catch',
        fullEvent: true,
        handler: (ev: Event) => {
          handled.push([ev.id, ev.error?.code, ev.originStep]);
          return 'handled';
        },
      }),
    );
    split.to(new MapStep({ name: 'r', handler: (x: number) => x * 3 })).respond();
    const server = serve(g);
    const replies = await Promise.all([1, 2, 3].map((x) => server.test('/', x, { id: `m${x}` })));
    expect(replies).toEqual([3, 'handled', 9]);
    expect(handled).toEqual([['m2', 'SG_ERR_STEP_FAILED', 'split']]);
  });
});

describe('errors in a batch', () => {
  test('a step failing on the batch fails every member; the handler receives the batch event once', async () => {
    const handled: Event[] = [];
    const g = createGraph();
    const model = g.to(new Batch({ name: 'batch', maxEvents: 3, key: 'group' })).to(
      new MapStep({
        name: 'model',
        handler: async (xs: Array<{ group: string; v: number }>) => {
          await sleep(xs[0].v % 3);
          if (xs[0].group === 'bad') throw new SgError('SG_ERR_BATCH_BROKE', 'broken batch');
          return xs.map((x) => x.v);
        },
      }),
    );
    model.to(new MapStep({ name: 'r', handler: (x) => x })).respond();
    const server = serve(g);
    const bodies = Array.from({ length: 18 }, (_, i) => ({ group: i % 2 === 0 ? 'bad' : 'good', v: i }));
    const rs = await settle(bodies.map((b) => server.test('/', b)));
    expect(rs).toEqual(bodies.map((b) => (b.group === 'bad' ? 'SG_ERR_BATCH_BROKE' : b.v)));

    const g2 = createGraph();
    g2.to(new Batch({ name: 'batch', maxEvents: 3 }))
      .to(
        new MapStep({
          name: 'model',
          handler: () => {
            throw new Error('whole batch');
          },
        }),
      )
      .errorHandler(
        new MapStep({
          name: 'catch',
          fullEvent: true,
          handler: (ev: Event) => {
            handled.push(ev);
            return (ev.body as number[]).map((x) => ({ fallback: x }));
          },
        }),
      )
      .respond();
    const s2 = serve(g2);
    expect(await Promise.all([1, 2, 3].map((x) => s2.test('/', x)))).toEqual([
      { fallback: 1 },
      { fallback: 2 },
      { fallback: 3 },
    ]);
    expect(handled).toHaveLength(1);
    expect(handled[0].batch?.size).toBe(3);
    expect(handled[0].error?.code).toBe('SG_ERR_STEP_FAILED');
  });
});

describe('FlatMap resultPath on a batch', () => {
  test("item i is written at resultPath into a copy of member i's body; a bad body fails only its member", async () => {
    const g = createGraph();
    g.to(new Batch({ name: 'batch', maxEvents: 3 }))
      .to(
        new FlatMap({
          name: 'split',
          inputPath: '0',
          resultPath: 'out.score',
          handler: () => [1, 2, 3],
        }),
      )
      .to(new MapStep({ name: 'r', handler: (b) => b }))
      .respond();
    const server = serve(g);
    const replies = await settle([{ q: 'a' }, 'primitive', { q: 'c' }].map((b) => server.test('/', b)));
    expect(replies).toEqual([{ q: 'a', out: { score: 1 } }, 'SG_ERR_PATH_TARGET', { q: 'c', out: { score: 3 } }]);
  });
});

describe('a fullEvent batch at a branch', () => {
  test('each branch gets its own copies of the member events; splitting a copy still answers the members', async () => {
    const sideSeen: unknown[] = [];
    const g = createGraph();
    const batch = g.to(new Batch({ name: 'batch', maxEvents: 2, fullEvent: true }));
    batch
      .to(new FlatMap({ name: 'split', fullEvent: true, handler: (b: Event) => (b.body as Event[]).slice(0, 1) }))
      .to(new MapStep({ name: 'r', handler: (x: { n: number }) => ({ ...x, r: true }) }))
      .respond();
    batch.to(
      new MapStep({
        name: 'side',
        handler: (evs: Event[]) => {
          for (const e of evs) {
            sideSeen.push({ ...(e.body as object) });
            (e.body as { n: number }).n = -1;
          }
        },
      }),
    );
    const server = serve(g);
    const replies = await Promise.all([server.test('/', { n: 1 }), server.test('/', { n: 2 })]);
    expect(replies).toEqual([{ n: 1, r: true }, undefined]);
    expect(sideSeen).toEqual([{ n: 1 }, { n: 2 }]);
  });
});
