// streaming.md, "Cancellation": leaving the loop, close() grace, errors after cancellation.
import { describe, expect, test } from 'vitest';
import { createGraph, MapStep, type SgError, type StepContext } from '../../src/index.js';
import { closeServersAfterEach, deferred, endless, readAll, rejectsSg, serve, sleep, waitFor } from './helpers.js';

closeServersAfterEach();

describe('leaving the loop early', () => {
  test.each(['break', 'return', 'throw'] as const)(
    '%s: the signal aborts before the generator is closed (its finally sees aborted)',
    async (how) => {
      const state = { produced: 0, closed: false } as Parameters<typeof endless>[0];
      const g = createGraph();
      g.to(endless(state)).respond();
      const s = serve(g);
      const loop = async () => {
        let n = 0;
        for await (const _c of s.testStream('/', 1)) {
          if (++n < 3) continue;
          if (how === 'break') break;
          if (how === 'return') return;
          throw new Error('consumer failed');
        }
      };
      if (how === 'throw') await expect(loop()).rejects.toThrow('consumer failed');
      else await loop();
      await waitFor(() => state.closed);
      expect(state.abortedInFinally).toBe(true);
      expect((state.reason as SgError).code).toBe('SG_ERR_CLIENT_CLOSED');
    },
  );

  test('the signal has aborted by the time the loop is left', async () => {
    let signal: AbortSignal | undefined;
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'p',
        handler: async function* (_x: unknown, ctx: StepContext) {
          signal = ctx.signal;
          for (let i = 0; ; i++) yield i;
        },
      }),
    ).respond();
    const s = serve(g);
    for await (const _c of s.testStream('/', 1)) break;
    expect(signal?.aborted).toBe(true);
  });

  test('a producer waiting on something that ignores the signal does not hold the server', async () => {
    const never = deferred();
    let aborted = false;
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'stuck',
        handler: async function* (_x: unknown, ctx: StepContext) {
          ctx.signal.addEventListener('abort', () => (aborted = true));
          yield 1;
          await never.promise; // ignores the signal
          yield 2;
        },
      }),
    ).respond();
    const s = serve(g);
    for await (const _c of s.testStream('/', 1)) break;
    expect(aborted).toBe(true);
    const started = Date.now();
    await s.close({ graceMs: 10_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('cancelling one stream does not affect the others', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'p',
        handler: async function* (n: number) {
          for (let i = 0; i < n; i++) {
            await new Promise((r) => setImmediate(r));
            yield i;
          }
        },
      }),
    ).respond();
    const s = serve(g);
    const full = readAll(s.testStream('/', 30));
    for await (const c of s.testStream('/', 30)) if (c === 5) break;
    expect(await full).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });
});

describe('errors after cancellation are not reported', () => {
  test('a producer that throws from finally, or on its aborted signal', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'p',
        handler: async function* (_x: unknown, ctx: StepContext) {
          try {
            for (let i = 0; ; i++) {
              yield i;
              await new Promise((r) => setTimeout(r, 1));
              if (ctx.signal.aborted) throw new Error('aborted: thrown after cancellation');
            }
          } finally {
            // biome-ignore lint/correctness/noUnsafeFinally: the point of the test
            throw new Error('finally throws');
          }
        },
      }),
    ).respond();
    const s = serve(g);
    const got: unknown[] = [];
    for await (const c of s.testStream('/', 1)) {
      got.push(c);
      if (got.length === 2) break;
    }
    expect(got).toEqual([0, 1]);
    await sleep(20); // an unhandled rejection would fail the run
    for await (const c of s.testStream('/', 1)) if (c === 2) break; // the next stream runs as usual
  });
});

describe('close() grace ending cancels streams', () => {
  test('the producer is aborted with SG_ERR_SERVER_CLOSED and the consumer gets it', async () => {
    const state = { produced: 0, closed: false } as Parameters<typeof endless>[0];
    const g = createGraph();
    g.setStreaming(true, { maxBufferedChunks: 2 });
    g.to(endless(state)).respond();
    const s = serve(g);
    const st = s.testStream('/', 1);
    const it = st[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe(0);
    await s.close({ graceMs: 20 });
    await waitFor(() => state.closed);
    expect(state.abortedInFinally).toBe(true);
    expect((state.reason as SgError).code).toBe('SG_ERR_SERVER_CLOSED');
    // the chunks already on their way come first, then the failure
    const rest: unknown[] = [];
    await rejectsSg(
      (async () => {
        for (;;) {
          const r = await it.next();
          if (r.done) return;
          rest.push(r.value);
        }
      })(),
      'SG_ERR_SERVER_CLOSED',
    );
    expect(rest.length).toBeLessThanOrEqual(2);
    await rejectsSg(st.done, 'SG_ERR_SERVER_CLOSED');
  });

  test('streams that end within the grace period complete', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'p',
        handler: async function* () {
          for (let i = 0; i < 3; i++) {
            await sleep(5);
            yield i;
          }
        },
      }),
    ).respond();
    const s = serve(g);
    await s.ready();
    const all = readAll(s.testStream('/', 1));
    await s.close({ graceMs: 5_000 });
    expect(await all).toEqual([0, 1, 2]);
  });

  test('a stream cancelled while its handler is still making the iterable never starts', async () => {
    let started = false;
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'late',
        streaming: true,
        handler: async () => {
          await sleep(100);
          return (async function* () {
            started = true;
            yield 1;
          })();
        },
      }),
    ).respond();
    const s = serve(g);
    await s.ready();
    const st = s.testStream('/', 1);
    await s.close({ graceMs: 10 });
    await rejectsSg(readAll(st), 'SG_ERR_SERVER_CLOSED');
    await sleep(150);
    expect(started).toBe(false);
  });
});
