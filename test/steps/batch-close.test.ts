import { afterEach, describe, expect, test } from 'vitest';
import { Batch, createGraph, MapStep, type MockServer, SgError, type StepContext } from '../../src/index.js';
import { mockEventInit } from '../../src/server/event-init.js';
import { deferred, quietServer, sleep, waitFor } from '../support/core.js';

const servers: MockServer[] = [];
const serve = (g: ReturnType<typeof createGraph>) => {
  const s = quietServer(g);
  servers.push(s);
  return s;
};
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
});

describe('Batch and close()', () => {
  test('close() emits every open batch at once, oldest first, within the grace period', async () => {
    const calls: unknown[] = [];
    const g = createGraph();
    g.to(new Batch({ name: 'batch', maxEvents: 10, flushAfterSeconds: 100, key: '$path' }))
      .to(
        new MapStep({
          name: 'model',
          handler: (xs: number[]) => {
            calls.push(xs);
            return xs;
          },
        }),
      )
      .respond();
    const server = quietServer(g);
    await server.ready();
    const replies = [server.test('/b', 1), server.test('/a', 2), server.test('/b', 3)];
    await sleep(10);
    const started = Date.now();
    await server.close();
    expect((Date.now() - started) / 1000).toBeLessThan(3);
    expect(await Promise.all(replies)).toEqual([1, 2, 3]);
    expect(calls).toEqual([[1, 3], [2]]);
  });

  test('events reaching a Batch while the server closes are still served', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'slow',
        handler: async (x: number) => {
          await sleep(30);
          return x;
        },
      }),
    )
      .to(new Batch({ name: 'batch', maxEvents: 10, flushAfterSeconds: 100 }))
      .to(new MapStep({ name: 'model', handler: (xs: number[]) => xs.map((x) => x + 1) }))
      .respond();
    const server = quietServer(g);
    await server.ready();
    const replies = Promise.all([1, 2].map((x) => server.test('/', x)));
    await sleep(5);
    const started = Date.now();
    await server.close({ graceMs: 5000 });
    expect((Date.now() - started) / 1000).toBeLessThan(3);
    expect(await replies).toEqual([2, 3]);
  });

  test('a member whose request ends before emission leaves the open batch', async () => {
    const calls: number[][] = [];
    const g = createGraph();
    g.to(new Batch({ name: 'batch', maxEvents: 3, flushAfterSeconds: 0.2 }))
      .to(
        new MapStep({
          name: 'model',
          handler: (xs: number[]) => {
            calls.push(xs);
            return xs;
          },
        }),
      )
      .respond();
    const server = serve(g);
    await server.ready();
    const rt = server._runtime;
    const outcome = (x: number) => {
      const d = deferred<unknown>();
      const slot = rt.submit(mockEventInit('/', x, { id: `c${x}` }), {
        reply: (b) => d.resolve(b),
        fail: (e) => d.resolve(e.code),
      });
      return { slot, result: d.promise };
    };
    const one = outcome(1);
    one.slot.cancel(new SgError('SG_ERR_CLIENT_CLOSED', 'client gone'));
    expect(await one.result).toBe('SG_ERR_CLIENT_CLOSED');
    expect(one.slot.finished).toBe(true);
    // the lone member left: no batch is emitted
    await sleep(300);
    expect(calls).toEqual([]);
    // a member leaving a batch of several: the others are emitted together
    const a = outcome(2);
    const b = outcome(3);
    a.slot.cancel(new SgError('SG_ERR_TIMEOUT', 'request timed out'));
    const c = outcome(4);
    const d = outcome(5);
    expect(await Promise.all([a.result, b.result, c.result, d.result])).toEqual(['SG_ERR_TIMEOUT', 3, 4, 5]);
    expect(calls).toEqual([[3, 4, 5]]);
  });

  test("after emission a cancelled member stays in the batch; the step's signal aborts only when all are", async () => {
    const signals: AbortSignal[] = [];
    const release = deferred();
    const g = createGraph();
    g.to(new Batch({ name: 'batch', maxEvents: 2 }))
      .to(
        new MapStep({
          name: 'model',
          handler: async (xs: number[], ctx: StepContext) => {
            signals.push(ctx.signal);
            await release.promise;
            return xs;
          },
        }),
      )
      .respond();
    const server = serve(g);
    await server.ready();
    const rt = server._runtime;
    const results: unknown[] = [];
    const slots = [1, 2].map((x) =>
      rt.submit(mockEventInit('/', x, {}), { reply: (b) => results.push(b), fail: (e) => results.push(e.code) }),
    );
    await waitFor(() => signals.length === 1);
    slots[0].cancel(new SgError('SG_ERR_CLIENT_CLOSED', 'gone'));
    expect(signals[0].aborted).toBe(false);
    release.resolve();
    await waitFor(() => results.length === 2);
    expect(results).toEqual(['SG_ERR_CLIENT_CLOSED', 2]);
    const all = deferred();
    const g2 = createGraph();
    const aborted: unknown[] = [];
    g2.to(new Batch({ name: 'batch', maxEvents: 2 })).to(
      new MapStep({
        name: 'model',
        handler: async (_xs: number[], ctx: StepContext) => {
          ctx.signal.addEventListener('abort', () => {
            aborted.push((ctx.signal.reason as SgError).code);
            all.resolve();
          });
          await all.promise;
        },
      }),
    );
    const s2 = serve(g2);
    await s2.ready();
    const slots2 = [1, 2].map((x) => s2._runtime.submit(mockEventInit('/', x, {}), { reply() {}, fail() {} }));
    await sleep(10);
    slots2[0].cancel(new SgError('SG_ERR_CLIENT_CLOSED', 'gone'));
    expect(aborted).toEqual([]);
    slots2[1].cancel(new SgError('SG_ERR_CLIENT_CLOSED', 'gone too'));
    await all.promise;
    expect(aborted).toEqual(['SG_ERR_CLIENT_CLOSED']);
  });
});
