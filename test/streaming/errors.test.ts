// streaming.md, "Errors in a stream": producer failures, error chunks, per-chunk failures, the error route.
import { describe, expect, test } from 'vitest';
import { createGraph, type Event, MapStep, SgError, type StepContext } from '../../src/index.js';
import { closeServersAfterEach, rejectsSg, serve, waitFor, words } from './helpers.js';

closeServersAfterEach();

/** A producer yielding `n` chunks, then failing with `err` (thrown, or yielded as an error chunk). */
const failing = (n: number, how: 'throw' | 'yield', err: unknown = new Error('broke')) =>
  new MapStep({
    name: 'p',
    handler: async function* () {
      for (let i = 0; i < n; i++) yield i;
      if (how === 'yield') yield err;
      else throw err;
      yield 'never';
    },
  });

/** Read `s`, returning the items received before it threw, and the error. */
async function readUntilError(s: AsyncIterable<unknown>): Promise<{ got: unknown[]; err: unknown }> {
  const got: unknown[] = [];
  try {
    for await (const c of s) got.push(c);
  } catch (err) {
    return { got, err };
  }
  throw new Error(`the stream did not fail; got ${JSON.stringify(got)}`);
}

const recorder = (log: Array<[string | undefined, string | undefined, unknown]>, answer = 'handled') =>
  new MapStep({
    name: 'h',
    fullEvent: true,
    handler: (ev: Event) => {
      log.push([ev.error?.code, ev.originStep, ev.body]);
      return answer;
    },
  });

describe('a producer that fails mid-stream', () => {
  test.each(['throw', 'yield'] as const)('%s: for await throws at the next read; done rejects', async (how) => {
    const g = createGraph();
    g.to(failing(2, how)).respond();
    const s = serve(g);
    const st = s.testStream('/', 1);
    const { got, err } = await readUntilError(st);
    expect(got).toEqual([0, 1]);
    expect(err).toBeInstanceOf(SgError);
    expect((err as SgError).code).toBe('SG_ERR_STEP_FAILED');
    expect((err as SgError).step).toBe('p');
    expect((err as SgError).message).toContain('broke');
    await rejectsSg(st.done, 'SG_ERR_STEP_FAILED');
    // test() rejects with the stream's error
    await rejectsSg(s.test('/', 1), 'SG_ERR_STEP_FAILED');
  });

  test('an SgError, thrown or yielded, keeps its code', async () => {
    for (const how of ['throw', 'yield'] as const) {
      const g = createGraph();
      g.to(failing(1, how, new SgError('SG_ERR_PROVIDER_UNAVAILABLE', 'upstream gone'))).respond();
      const { got, err } = await readUntilError(serve(g).testStream('/', 1));
      expect(got).toEqual([0]);
      expect((err as SgError).code).toBe('SG_ERR_PROVIDER_UNAVAILABLE');
      expect((err as SgError).step).toBe('p');
    }
  });

  test('an error chunk is never passed on as a chunk, and closes the producer', async () => {
    let closed = false;
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'p',
        handler: async function* () {
          try {
            yield 'a';
            yield new TypeError('bad chunk');
            yield 'b';
          } finally {
            closed = true;
          }
        },
      }),
    ).respond();
    const { got, err } = await readUntilError(serve(g).testStream('/', 1));
    expect(got).toEqual(['a']);
    expect((err as SgError).message).toContain('bad chunk');
    await waitFor(() => closed);
  });

  test('after chunks reached the responder: error handlers run, their output is discarded', async () => {
    const log: Array<[string | undefined, string | undefined, unknown]> = [];
    const g = createGraph();
    g.to(failing(2, 'throw')).respond().errorHandler(recorder(log));
    const { got, err } = await readUntilError(serve(g).testStream('/', 'input'));
    expect(got).toEqual([0, 1]);
    expect((err as SgError).code).toBe('SG_ERR_STEP_FAILED');
    await waitFor(() => log.length === 1);
    expect(log).toEqual([['SG_ERR_STEP_FAILED', 'p', 'input']]);
  });
});

describe('a failure before the first chunk is an ordinary event failure', () => {
  test("the producer's error handler receives the originating event and answers", async () => {
    const log: Array<[string | undefined, string | undefined, unknown]> = [];
    const g = createGraph();
    g.to(failing(0, 'throw')).respond().errorHandler(recorder(log));
    const s = serve(g);
    expect(await s.test('/', { q: 1 })).toBe('handled');
    const st = s.testStream('/', { q: 2 });
    const got: unknown[] = [];
    for await (const c of st) got.push(c);
    expect(got).toEqual(['handled']);
    expect(await st.done).toMatchObject({ chunks: 1 });
    expect(log).toEqual([
      ['SG_ERR_STEP_FAILED', 'p', { q: 1 }],
      ['SG_ERR_STEP_FAILED', 'p', { q: 2 }],
    ]);
  });

  test('without a handler: the first next() rejects; the graph handler is used when the step has none', async () => {
    const g1 = createGraph();
    g1.to(failing(0, 'yield')).respond();
    const { got, err } = await readUntilError(serve(g1).testStream('/', 1));
    expect(got).toEqual([]);
    expect((err as SgError).code).toBe('SG_ERR_STEP_FAILED');

    const log: Array<[string | undefined, string | undefined, unknown]> = [];
    const g2 = createGraph();
    g2.to(failing(0, 'throw')).respond();
    g2.errorHandler(recorder(log, 'graph handler'));
    expect(await serve(g2).test('/', 'x')).toBe('graph handler');
    expect(log).toEqual([['SG_ERR_STEP_FAILED', 'p', 'x']]);
  });

  test('a failure before the producer is called (its handler throws synchronously)', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'p',
        streaming: true,
        handler: () => {
          throw new SgError('SG_ERR_BAD_REQUEST', 'no');
        },
      }),
    ).respond();
    await rejectsSg(serve(g).test('/', 1), 'SG_ERR_BAD_REQUEST');
  });
});

describe('a per-chunk step failing', () => {
  const bad = (at: string) =>
    new MapStep({
      name: 'bad',
      handler: (w: string) => {
        if (w === at) throw new Error(`no ${at}`);
        return w;
      },
    });

  test('the stream fails and its producer is cancelled; the error names the step', async () => {
    const state = { aborted: undefined as boolean | undefined, reason: undefined as unknown };
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'p',
        handler: async function* (_x: unknown, ctx: StepContext) {
          try {
            for (const w of ['a', 'b', 'c', 'd', 'e', 'f']) yield w;
          } finally {
            state.aborted = ctx.signal.aborted;
            state.reason = ctx.signal.reason;
          }
        },
      }),
    )
      .to(bad('c'))
      .respond();
    const { got, err } = await readUntilError(serve(g).testStream('/', 1));
    expect(got).toEqual(['a', 'b']);
    expect((err as SgError).code).toBe('SG_ERR_STEP_FAILED');
    expect((err as SgError).step).toBe('bad');
    await waitFor(() => state.aborted !== undefined);
    expect(state.aborted).toBe(true);
    expect((state.reason as SgError).step).toBe('bad');
  });

  test("on the first chunk: the step's error handler receives the event the producer received", async () => {
    const log: Array<[string | undefined, string | undefined, unknown]> = [];
    const g = createGraph();
    g.to(words()).to(bad('a')).respond().errorHandler(recorder(log, 'fallback'));
    const s = serve(g);
    expect(await s.test('/', 'a b')).toBe('fallback');
    expect(log).toEqual([['SG_ERR_STEP_FAILED', 'bad', 'a b']]);
    expect(await s.test('/', 'x y')).toBe('xy');
  });
});

test('a failing stream does not affect other streams in flight', async () => {
  const g = createGraph();
  g.to(
    new MapStep({
      name: 'p',
      handler: async function* (k: number) {
        for (let i = 0; i < 10; i++) {
          await new Promise((r) => setImmediate(r));
          if (k % 3 === 0 && i === 5) throw new Error(`stream ${k}`);
          yield `${k}:${i}`;
        }
      },
    }),
  ).respond();
  const s = serve(g);
  const runs = await Promise.allSettled(
    Array.from({ length: 30 }, async (_, k) => {
      const got: unknown[] = [];
      for await (const c of s.testStream('/', k)) got.push(c);
      return got;
    }),
  );
  runs.forEach((r, k) => {
    if (k % 3 === 0) {
      expect(r.status).toBe('rejected');
      expect(((r as PromiseRejectedResult).reason as SgError).message).toContain(`stream ${k}`);
    } else {
      expect(r.status).toBe('fulfilled');
      expect((r as PromiseFulfilledResult<unknown[]>).value).toEqual(Array.from({ length: 10 }, (_, i) => `${k}:${i}`));
    }
  });
});
