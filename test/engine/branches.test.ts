import { describe, expect, test } from 'vitest';
import { Choice, createGraph, type Event, MapStep, type StepContext } from '../../src/index.js';
import { rejectsSg, sleep, useServers, waitFor } from '../support/core.js';

type Body = { nested: { list: number[] }; tag?: string };
const serve = useServers();

describe('branches (graph.md section 4)', () => {
  test('the first branch gets the original event, the others deep copies; mutations stay in their branch', async () => {
    const seen: Record<string, { ev: Event; body: unknown }> = {};
    let original: Event | undefined;
    const g = createGraph();
    const src = g.to(
      new MapStep({
        name: 'src',
        fullEvent: true,
        handler: (ev: Event) => {
          ev.meta.note = { k: 1 };
          original = ev;
          return ev;
        },
      }),
    );
    const branch = (name: string, delay: number) =>
      new MapStep({
        name,
        fullEvent: true,
        handler: async (ev: Event) => {
          const b = ev.body as Body;
          b.nested.list.push(name.length);
          b.tag = name;
          (ev.meta.note as { k: number }).k += name.length;
          await sleep(delay);
          seen[name] = { ev, body: structuredClone(ev.body) };
          return ev;
        },
      });
    src.to(branch('one', 5));
    src.to(branch('three', 0));
    src.to(branch('fiftyfive', 2));
    await serve(g).test('/', { nested: { list: [0] } });
    await waitFor(() => Object.keys(seen).length === 3);
    expect(seen.one.ev).toBe(original);
    expect(seen.three.ev).not.toBe(original);
    expect(seen.fiftyfive.ev).not.toBe(original);
    expect(seen.one.body).toEqual({ nested: { list: [0, 3] }, tag: 'one' });
    expect(seen.three.body).toEqual({ nested: { list: [0, 5] }, tag: 'three' });
    expect(seen.fiftyfive.body).toEqual({ nested: { list: [0, 9] }, tag: 'fiftyfive' });
    // meta is deep-copied too; the other fields are shared
    expect(seen.one.ev.meta.note).toEqual({ k: 4 });
    expect(seen.three.ev.meta.note).toEqual({ k: 6 });
    for (const name of ['three', 'fiftyfive']) {
      const ev = seen[name].ev;
      expect(ev.id).toBe(original!.id);
      expect(ev.path).toBe(original!.path);
      expect(ev.method).toBe(original!.method);
      expect(ev.headers).toEqual(original!.headers);
      expect(ev.timestamp.getTime()).toBe(original!.timestamp.getTime());
    }
  });

  test('copies are made before any branch runs: a synchronous first branch cannot leak into the others', async () => {
    const bodies: unknown[] = [];
    const g = createGraph();
    const src = g.to(new MapStep({ name: 'src', handler: (b) => b }));
    src.to(
      new MapStep({
        name: 'first',
        handler: (b: Body) => {
          b.nested.list.length = 0;
          b.tag = 'first';
          return b;
        },
      }),
    );
    src.to(new MapStep({ name: 'second', handler: (b: Body) => bodies.push(b) }));
    await serve(g).test('/', { nested: { list: [1, 2] } });
    expect(bodies).toEqual([{ nested: { list: [1, 2] } }]);
  });

  test('a body that cannot be copied fails the event at the branching step with SG_ERR_NOT_CLONEABLE', async () => {
    const g = createGraph();
    const src = g.to(new MapStep({ name: 'src', handler: (b: Record<string, unknown>) => b }));
    src.to(new MapStep({ name: 'left', handler: (b) => b })).respond();
    src.to(new MapStep({ name: 'right', handler: (b) => b }));
    const server = serve(g);
    const err = await rejectsSg(server.test('/', { f: () => 1 }), 'SG_ERR_NOT_CLONEABLE');
    expect(err.step).toBe('src');
    expect(err.status).toBe(500);
    expect(err.message).toContain('function');
    await rejectsSg(server.test('/', { p: Promise.resolve(1) }), 'SG_ERR_NOT_CLONEABLE');
    await rejectsSg(server.test('/', { s: Symbol('x') }), 'SG_ERR_NOT_CLONEABLE');
    // cloneable values pass, others in flight are not disturbed
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => server.test('/', i % 4 === 0 ? { f: () => i } : { n: i, d: new Date(0) })),
    );
    results.forEach((r, i) => {
      if (i % 4 === 0) expect((r as PromiseRejectedResult).reason.code).toBe('SG_ERR_NOT_CLONEABLE');
      else expect((r as PromiseFulfilledResult<unknown>).value).toEqual({ n: i, d: new Date(0) });
    });
  });

  test('a single downstream step needs no copy: a function in the body passes a chain', async () => {
    const g = createGraph();
    g.to(new MapStep({ name: 'a', handler: (b: { f: () => number }) => b }))
      .to(new MapStep({ name: 'b', handler: (b: { f: () => number }) => b.f() }))
      .respond();
    expect(await serve(g).test('/', { f: () => 7 })).toBe(7);
  });

  test('two start steps are a branch from the source: an uncloneable body fails the request', async () => {
    const g = createGraph();
    g.to(new MapStep({ name: 'a', handler: (b) => b })).respond();
    g.to(new MapStep({ name: 'b', handler: (b) => b }));
    const server = serve(g);
    const err = await rejectsSg(server.test('/', { f: () => 1 }), 'SG_ERR_NOT_CLONEABLE');
    expect(err.step).toBeUndefined();
    expect(await server.test('/', { ok: 1 })).toEqual({ ok: 1 });
  });

  test('without a responder, an uncloneable body at the source is only logged: test() resolves { id }', async () => {
    const g = createGraph();
    g.to(new MapStep({ name: 'a', handler: (b) => b }));
    g.to(new MapStep({ name: 'b', handler: (b) => b }));
    expect(await serve(g).test('/', { f: () => 1 }, { id: 'x1' })).toEqual({ id: 'x1' });
  });
});

describe('merges (graph.md section 4)', () => {
  test('a step after two steps runs once per arriving copy, in arrival order: no join', async () => {
    const g = createGraph();
    const runs: string[] = [];
    const a = g.to(new MapStep({ name: 'a', handler: (b) => b }));
    const b = a.to(
      new MapStep({
        name: 'b',
        handler: async () => {
          await sleep(10);
          return 'b';
        },
      }),
    );
    const c = a.to(new MapStep({ name: 'c', handler: () => 'c' }));
    const m = b.to(new MapStep({ name: 'm', handler: (x: string) => runs.push(x) }));
    c.to(m);
    expect(await serve(g).test('/', 0, { id: 'm1' })).toEqual({ id: 'm1' });
    expect(runs).toEqual(['c', 'b']);
  });
});

describe('Choice routes follow the branch rule', () => {
  test('selected branches run in edge order; the first selected gets the original', async () => {
    const order: string[] = [];
    const events: Record<string, Event> = {};
    let original: Event | undefined;
    const g = createGraph();
    const src = g.to(
      new MapStep({
        name: 'src',
        fullEvent: true,
        handler: (ev: Event) => {
          original = ev;
          return ev;
        },
      }),
    );
    const route = src.to(new Choice({ name: 'route', handler: () => ['c', 'a'] }));
    for (const name of ['a', 'b', 'c']) {
      route.to(
        new MapStep({
          name,
          fullEvent: true,
          handler: (ev: Event, ctx: StepContext) => {
            expect(ctx.event).toBe(ev);
            order.push(name);
            events[name] = ev;
            return ev;
          },
        }),
      );
    }
    await serve(g).test('/', {});
    expect(order).toEqual(['a', 'c']);
    expect(events.a).toBe(original);
    expect(events.c).not.toBe(original);
  });
});
