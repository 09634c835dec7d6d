// streaming.md, "Backpressure": the producer is pulled while fewer than maxBufferedChunks chunks wait.
// Checked by counting chunks, never by timing.
import { describe, expect, test } from 'vitest';
import { Collector, createGraph, MapStep, type MockServer, type Step, type StepContext } from '../../src/index.js';
import { closeServersAfterEach, endless, serve, sleep } from './helpers.js';

closeServersAfterEach();

/** Let every pending promise and timer of the process run for a while. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  await sleep(20);
}

function server(
  max: number | undefined,
  ...after: Step[]
): { s: MockServer; state: { produced: number; closed: boolean } } {
  const state = { produced: 0, closed: false };
  const g = createGraph();
  if (max !== undefined) g.setStreaming(true, { maxBufferedChunks: max });
  let last: Step = g.to(endless(state));
  for (const step of after) last = last.to(step);
  last.respond();
  return { s: serve(g), state };
}

describe('a consumer that stops reading', () => {
  test.each([1, 4, 16])('maxBufferedChunks %i: at most that many chunks are produced ahead', async (max) => {
    const { s, state } = server(max);
    const it = s.testStream('/', 1)[Symbol.asyncIterator]();
    await it.next();
    await it.next();
    await settle();
    expect(state.produced - 2).toBeLessThanOrEqual(max);
    expect(state.produced - 2).toBeGreaterThanOrEqual(max - 1); // the producer did run ahead up to the bound
    const before = state.produced;
    await settle();
    expect(state.produced).toBe(before);
    await it.return?.();
  });

  test('the default bound is 16', async () => {
    const { s, state } = server(undefined);
    const it = s.testStream('/', 1)[Symbol.asyncIterator]();
    await it.next();
    await settle();
    expect(state.produced - 1).toBeLessThanOrEqual(16);
    expect(state.produced - 1).toBeGreaterThanOrEqual(15);
    await it.return?.();
  });

  test('plus at most one chunk inside each per-chunk step', async () => {
    const steps = ['a', 'b', 'c'].map(
      (name) =>
        new MapStep({
          name,
          handler: async (n: number) => {
            await sleep(0);
            return n;
          },
        }),
    );
    const { s, state } = server(2, ...steps);
    const it = s.testStream('/', 1)[Symbol.asyncIterator]();
    await it.next();
    await settle();
    expect(state.produced - 1).toBeLessThanOrEqual(2 + steps.length);
    await it.return?.();
  });
});

describe('a slow consumer slows the producer', () => {
  test('produced minus consumed never passes the bound', async () => {
    const { s, state } = server(3, new MapStep({ name: 'per', handler: (n: number) => n }));
    let consumed = 0;
    let most = 0;
    for await (const c of s.testStream('/', 1)) {
      expect(c).toBe(consumed);
      consumed++;
      most = Math.max(most, state.produced - consumed);
      await sleep(1);
      most = Math.max(most, state.produced - consumed);
      if (consumed === 40) break;
    }
    expect(most).toBeLessThanOrEqual(3 + 1);
  });

  test('the slowest branch sets the pace', async () => {
    const state = { produced: 0, closed: false };
    const collected: unknown[] = [];
    const g = createGraph();
    g.setStreaming(true, { maxBufferedChunks: 2 });
    const p = g.to(endless(state));
    p.to(new MapStep({ name: 'reply', handler: (n: number) => n })).respond();
    p.to(
      new MapStep({
        name: 'side',
        handler: (n: number) => {
          collected.push(n);
          return n;
        },
      }),
    );
    const it = serve(g).testStream('/', 1)[Symbol.asyncIterator]();
    await it.next();
    await settle();
    expect(state.produced - 1).toBeLessThanOrEqual(2 + 1);
    expect(collected.length).toBeLessThanOrEqual(state.produced);
    await it.return?.();
  });
});

test('a Collector takes chunks at once: a long stream through a small bound', async () => {
  const g = createGraph();
  g.setStreaming(true, { maxBufferedChunks: 1 });
  g.to(
    new MapStep({
      name: 'p',
      handler: async function* (n: number, ctx: StepContext) {
        for (let i = 0; i < n && !ctx.signal.aborted; i++) yield 1;
      },
    }),
  )
    .to(new Collector({ name: 'c', reducer: { init: () => 0, step: (acc, c) => (acc as number) + (c as number) } }))
    .respond();
  expect(await serve(g).test('/', 5000)).toBe(5000);
});

test('test() collects a stream under any bound', async () => {
  const g = createGraph();
  g.setStreaming(true, { maxBufferedChunks: 1 });
  g.to(
    new MapStep({
      name: 'p',
      handler: function* (n: number) {
        for (let i = 0; i < n; i++) yield [i];
      },
    }),
  ).respond();
  expect(await serve(g).test('/', 100)).toEqual(Array.from({ length: 100 }, (_, i) => i));
});
