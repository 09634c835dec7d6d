import { describe, expect, test } from 'vitest';
import { Choice, createGraph, type Event, Filter, FlatMap, MapStep, SgError } from '../../src/index.js';
import { deferred, mixedLoad, rejectsSg, sleep, useServers, waitFor } from '../support/core.js';

type Body = Record<string, unknown>;
const serve = useServers();

describe('the reply (graph.md section 3)', () => {
  test('the responder emits: its output is the reply', async () => {
    const g = createGraph();
    g.to(new MapStep({ name: 'a', handler: (b: Body) => ({ ...b, a: 1 }) }))
      .to(new MapStep({ name: 'r', handler: (b: Body) => ({ ...b, r: 1 }) }))
      .respond()
      .to(new MapStep({ name: 'after', handler: (b: Body) => ({ ...b, after: 1 }) }));
    expect(await serve(g).test('/', { x: 0 })).toEqual({ x: 0, a: 1, r: 1 });
  });

  test("a fullEvent responder's returned event gives its body", async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'r',
        fullEvent: true,
        handler: (ev: Event) => ev.copy({ body: { copied: ev.body } }),
      }),
    ).respond();
    expect(await serve(g).test('/', 5)).toEqual({ copied: 5 });
  });

  test('merge: the first arrival answers, later ones are ignored (slow/fast example)', async () => {
    const g = createGraph();
    const a = g.to(new MapStep({ name: 'a', handler: (b: Body) => ({ ...b, a: 1 }) }));
    const slow = a.to(
      new MapStep({
        name: 'slow',
        handler: async (b: Body) => {
          await sleep(20);
          return { ...b, via: 'slow' };
        },
      }),
    );
    const fast = a.to(new MapStep({ name: 'fast', handler: (b: Body) => ({ ...b, via: 'fast' }) }));
    const runs: unknown[] = [];
    const merge = slow.to(
      new MapStep({
        name: 'merge',
        handler: (b: Body) => {
          runs.push(b.via);
          return b;
        },
      }),
    );
    fast.to(merge);
    merge.respond();
    const server = serve(g);
    expect(await server.test('/', {})).toEqual({ a: 1, via: 'fast' });
    await waitFor(() => runs.length === 2);
    expect(runs).toEqual(['fast', 'slow']);
  });

  test('an event dropped by Filter, Choice or an empty FlatMap answers undefined', async () => {
    const drops = [
      new Filter({ name: 'drop', handler: () => false }),
      new Choice({ name: 'drop', handler: () => [] }),
      new FlatMap({ name: 'drop', handler: () => [] }),
    ];
    for (const drop of drops) {
      const g = createGraph();
      const d = g.to(drop);
      d.to(new MapStep({ name: 'r', handler: (b) => b })).respond();
      expect(await serve(g).test('/', { x: 1 })).toBeUndefined();
    }
  });

  test('all paths ending elsewhere answer undefined once every copy has finished', async () => {
    const g = createGraph();
    const a = g.to(new MapStep({ name: 'a', handler: (b) => b }));
    const gate = deferred();
    let sideDone = false;
    a.to(
      new MapStep({
        name: 'side',
        handler: async () => {
          await gate.promise;
          sideDone = true;
        },
      }),
    );
    a.to(new Choice({ name: 'route', handler: () => [] }))
      .to(new MapStep({ name: 'r', handler: (b) => b }))
      .respond();
    const reply = serve(g).test('/', {});
    let settled = false;
    void reply.then(() => (settled = true));
    await sleep(20);
    expect(settled).toBe(false); // the side copy is still in flight: the reply waits for every copy
    gate.resolve();
    expect(await reply).toBeUndefined();
    expect(sideDone).toBe(true);
  });

  test('no responder: test() resolves { id } once every copy has finished; failures are only logged', async () => {
    const g = createGraph();
    const gate = deferred();
    const done: string[] = [];
    g.to(
      new MapStep({
        name: 'slow',
        handler: async () => {
          await gate.promise;
          done.push('slow');
        },
      }),
    );
    g.to(
      new MapStep({
        name: 'boom',
        handler: () => {
          throw new Error('boom');
        },
      }),
    );
    const server = serve(g);
    const reply = server.test('/', {}, { id: 'req-1' });
    let settled = false;
    void reply.then(() => (settled = true));
    await sleep(20);
    expect(settled).toBe(false);
    gate.resolve();
    expect(await reply).toEqual({ id: 'req-1' });
    expect(done).toEqual(['slow']);
    const anon = (await server.test('/', 1)) as { id: string };
    expect(anon.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('a failure upstream of the responder fails the request; other events are not disturbed', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'check',
        handler: async (b: number) => {
          await sleep(b % 5);
          if (b % 3 === 0) throw new Error(`bad ${b}`);
          return b;
        },
      }),
    )
      .to(new MapStep({ name: 'r', handler: (b: number) => b * 10 }))
      .respond();
    const server = serve(g);
    const err = await rejectsSg(server.test('/', 3), 'SG_ERR_STEP_FAILED');
    expect(err.step).toBe('check');
    expect(err.status).toBe(500);
    expect((err.cause as Error).message).toBe('bad 3');
    expect(err.message).toContain('bad 3');
    await mixedLoad(
      server,
      90,
      (i) => i,
      (i) => i % 3 === 0,
      'SG_ERR_STEP_FAILED',
      (i) => i * 10,
    );
    expect(await server.test('/', 1)).toBe(10);
  });

  test('a side-branch failure never changes the reply, before or after it is decided', async () => {
    const g = createGraph();
    const a = g.to(new MapStep({ name: 'a', handler: (b) => b }));
    // the side branch comes first in edge order and fails synchronously, before the responder runs
    a.to(
      new MapStep({
        name: 'side',
        handler: () => {
          throw new Error('side');
        },
      }),
    );
    a.to(new MapStep({ name: 'r', handler: (b: number) => b + 1 }))
      .respond()
      .to(
        new MapStep({
          name: 'after',
          handler: () => {
            throw new SgError('SG_ERR_AFTER', 'after the responder');
          },
        }),
      );
    const server = serve(g);
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => server.test('/', i)));
    expect(replies).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  test('steps after the responder get a copy: the reply never changes', async () => {
    const g = createGraph();
    const gate = deferred();
    let mutated = false;
    g.to(new MapStep({ name: 'r', handler: (b: Body) => ({ ...b, nested: { n: 1 } }) }))
      .respond()
      .to(
        new MapStep({
          name: 'mutate',
          fullEvent: true,
          handler: async (ev: Event) => {
            await gate.promise;
            const body = ev.body as { nested: { n: number }; x?: number };
            body.nested.n = 99;
            body.x = 1;
            ev.body = 'replaced';
            mutated = true;
            return ev;
          },
        }),
      );
    const reply = (await serve(g).test('/', {})) as Body;
    expect(reply).toEqual({ nested: { n: 1 } });
    gate.resolve();
    await waitFor(() => mutated);
    expect(reply).toEqual({ nested: { n: 1 } });
  });

  test('FlatMap before the responder: the first item answers', async () => {
    const g = createGraph();
    g.to(new FlatMap({ name: 'fm', handler: (b: number[]) => b }))
      .to(new MapStep({ name: 'r', handler: (x: number) => x * 2 }))
      .respond();
    expect(await serve(g).test('/', [3, 4, 5])).toBe(6);
  });

  test('a failure after the reply was decided is ignored for the reply', async () => {
    const g = createGraph();
    const a = g.to(new FlatMap({ name: 'fm', handler: (b: number[]) => b }));
    a.to(
      new MapStep({
        name: 'r',
        handler: (x: number) => {
          if (x < 0) throw new Error('negative');
          return x;
        },
      }),
    ).respond();
    const server = serve(g);
    expect(await server.test('/', [1, -1])).toBe(1);
    await rejectsSg(server.test('/', [-1, 1]), 'SG_ERR_STEP_FAILED');
  });
});
