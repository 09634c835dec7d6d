// streaming.md, "The Collector step": what it emits, reducers, limits, onStreamError, plain events.
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import {
  Collector,
  type CollectorReducer,
  createGraph,
  type Event,
  Filter,
  MapStep,
  SgError,
  type Step,
  type StepContext,
  type StreamDone,
  type StreamInfo,
} from '../../src/index.js';
import { closeServersAfterEach, rejectsSg, serve, sleep, throwsSg, waitFor, words } from './helpers.js';

closeServersAfterEach();

/** `words -> [per-chunk] -> collector -> describe(respond)`: the reply shows the Collector's event. */
function through(collector: Collector, producer: Step = words(), per?: Step) {
  const g = createGraph();
  let last = g.to(producer);
  if (per) last = last.to(per);
  last
    .to(collector)
    .to(
      new MapStep({
        name: 'describe',
        fullEvent: true,
        handler: (ev: Event) => ({
          id: ev.id,
          body: ev.body,
          stream: ev.stream,
          error: ev.error?.code,
          originStep: ev.originStep,
        }),
      }),
    )
    .respond();
  return serve(g);
}

describe('what a Collector emits', () => {
  test('the originating event with the merged body, without stream', async () => {
    const s = through(new Collector());
    expect(await s.test('/', 'a b', { id: 'e1' })).toEqual({
      id: 'e1',
      body: 'ab',
      stream: undefined,
      error: undefined,
      originStep: undefined,
    });
  });

  test('the default name is Collector; options default as the spec says', () => {
    const c = new Collector();
    expect(c.name).toBe('Collector');
    expect([c.timeoutMs, c.idleTimeoutMs, c.maxChunks, c.onStreamError]).toEqual([300000, 0, 100000, 'fail']);
  });

  test('a plain event passes through unchanged', async () => {
    const g = createGraph();
    g.to(new MapStep({ name: 'plain', handler: (b: { n: number }) => ({ n: b.n + 1 }) }))
      .to(new Collector({ name: 'c' }))
      .respond();
    expect(await serve(g).test('/', { n: 1 })).toEqual({ n: 2 });
  });

  test('a stream with no chunk: the Collector emits for its end marker alone', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'none',
        handler: async function* () {
          /* nothing */
        },
      }),
    )
      .to(new Collector({ name: 'c' }))
      .respond();
    expect(await serve(g).test('/', 1)).toEqual([]);
  });
});

describe('reducer', () => {
  test('init once per stream, step per chunk with StreamInfo, finish with the done payload', async () => {
    let inits = 0;
    const infos: StreamInfo[] = [];
    const reducer: CollectorReducer<{ text: string; n: number }, unknown> = {
      init: () => {
        inits++;
        return { text: '', n: 0 };
      },
      step: (acc, chunk, info) => {
        infos.push(info);
        return { text: acc.text + String(chunk), n: acc.n + 1 };
      },
      finish: (acc, done: StreamDone) => ({ ...acc, done }),
    };
    const s = through(new Collector({ name: 'c', reducer }));
    const out = (await s.test('/', 'a b c', { id: 'r1' })) as { body: unknown };
    expect(out.body).toEqual({ text: 'abc', n: 3, done: { id: 'r1', chunks: 3, words: 3 } });
    expect(inits).toBe(1);
    expect(infos.map((i) => [i.seq, i.last, i.step])).toEqual([
      [0, false, 'words'],
      [1, false, 'words'],
      [2, false, 'words'],
    ]);
    expect(new Set(infos.map((i) => i.id)).size).toBe(1);
    await Promise.all([s.test('/', 'x'), s.test('/', 'y z')]);
    expect(inits).toBe(3);
  });

  test('done.chunks counts the chunks that reached the Collector', async () => {
    let done: StreamDone | undefined;
    const reducer = {
      init: () => 0,
      step: (n: number) => n + 1,
      finish: (n: number, d: StreamDone) => {
        done = d;
        return n;
      },
    };
    const g = createGraph();
    g.to(words())
      .to(new Filter({ name: 'noB', handler: (w: string) => w !== 'b' }))
      .to(new Collector({ name: 'c', reducer: reducer as CollectorReducer }))
      .respond();
    expect(await serve(g).test('/', 'a b c')).toBe(2);
    expect(done).toMatchObject({ chunks: 2, words: 3 });
  });

  test('without finish the accumulator is the result; the reducer wins over collect; resultPath applies', async () => {
    const reducer = { init: () => [] as unknown[], step: (acc: unknown[], c: unknown) => [c, ...acc] };
    const producer = words('words', { inputPath: 'q', resultPath: 'a', collect: () => 'from collect' });
    const s = through(new Collector({ name: 'c', reducer: reducer as CollectorReducer }), producer);
    expect(((await s.test('/', { q: 'x y' })) as { body: unknown }).body).toEqual({ q: 'x y', a: ['y', 'x'] });
  });
});

describe('limits', () => {
  const stalling = (state: { aborted?: unknown; closed?: boolean }, chunks: number, pause: number) =>
    new MapStep({
      name: 'slow',
      handler: async function* (_x: unknown, ctx: StepContext) {
        try {
          for (let i = 0; i < chunks; i++) {
            yield i;
            await delay(pause, undefined, { signal: ctx.signal });
          }
        } finally {
          state.aborted = ctx.signal.aborted ? ctx.signal.reason : undefined;
          state.closed = true;
        }
      },
    });

  test('timeoutMs: SG_ERR_STREAM_TIMEOUT, and the producer is cancelled with it', async () => {
    const state: { aborted?: unknown; closed?: boolean } = {};
    const s = through(new Collector({ name: 'c', timeoutMs: 30 }), stalling(state, 1000, 5));
    const err = await rejectsSg(s.test('/', 1), 'SG_ERR_STREAM_TIMEOUT');
    expect(err.step).toBe('c');
    expect(err.message).toContain('timeoutMs');
    await waitFor(() => state.closed === true);
    expect((state.aborted as SgError).code).toBe('SG_ERR_STREAM_TIMEOUT');
  });

  test('idleTimeoutMs: the longest gap between two chunks', async () => {
    const state: { aborted?: unknown; closed?: boolean } = {};
    const s = through(new Collector({ name: 'c', idleTimeoutMs: 20 }), stalling(state, 3, 2000));
    const err = await rejectsSg(s.test('/', 1), 'SG_ERR_STREAM_TIMEOUT');
    expect(err.message).toContain('idleTimeoutMs');
    await waitFor(() => state.closed === true);
    // chunks close together pass
    const ok = through(new Collector({ name: 'c', idleTimeoutMs: 5000 }), stalling({}, 3, 1));
    expect(((await ok.test('/', 1)) as { body: unknown }).body).toEqual([0, 1, 2]);
  });

  test('maxChunks: SG_ERR_STREAM_TOO_LARGE at chunk maxChunks + 1', async () => {
    const state: { aborted?: unknown; closed?: boolean } = {};
    const s = through(new Collector({ name: 'c', maxChunks: 3 }), stalling(state, 1000, 0));
    const err = await rejectsSg(s.test('/', 1), 'SG_ERR_STREAM_TOO_LARGE');
    expect(err.step).toBe('c');
    await waitFor(() => state.closed === true);
    expect((state.aborted as SgError).code).toBe('SG_ERR_STREAM_TOO_LARGE');
    const exact = through(new Collector({ name: 'c', maxChunks: 3 }), stalling({}, 3, 0));
    expect(((await exact.test('/', 1)) as { body: unknown }).body).toEqual([0, 1, 2]);
  });

  test("a limit with onStreamError 'fail' reaches the Collector's error handler", async () => {
    const g = createGraph();
    g.to(stalling({}, 1000, 0))
      .to(new Collector({ name: 'c', maxChunks: 2 }))
      .respond()
      .errorHandler(
        new MapStep({
          name: 'h',
          fullEvent: true,
          handler: (ev: Event) => ({ code: ev.error?.code, at: ev.originStep, body: ev.body }),
        }),
      );
    expect(await serve(g).test('/', 'in')).toEqual({ code: 'SG_ERR_STREAM_TOO_LARGE', at: 'c', body: 'in' });
  });
});

describe('onStreamError', () => {
  const failingAt = (n: number) =>
    new MapStep({
      name: 'p',
      handler: async function* () {
        for (let i = 0; i < n; i++) yield i;
        throw new Error('broke');
      },
    });

  test("'fail': nothing is emitted and the event fails where the stream failed", async () => {
    const s = through(new Collector({ name: 'c' }), failingAt(2));
    const err = await rejectsSg(s.test('/', 1), 'SG_ERR_STEP_FAILED');
    expect(err.step).toBe('p');
  });

  test("'partial': the merge so far, with error and originStep (the producer)", async () => {
    const s = through(new Collector({ name: 'c', onStreamError: 'partial' }), failingAt(2));
    expect(await s.test('/', 1, { id: 'q' })).toEqual({
      id: 'q',
      body: [0, 1],
      stream: undefined,
      error: 'SG_ERR_STEP_FAILED',
      originStep: 'p',
    });
  });

  test("'partial' after an async step: the partial event is the reply, not the failure", async () => {
    const g = createGraph();
    g.to(failingAt(3))
      .to(new Collector({ name: 'c', onStreamError: 'partial' }))
      .to(
        new MapStep({
          name: 'later',
          fullEvent: true,
          handler: async (ev: Event) => {
            await sleep(5);
            return { body: ev.body, error: ev.error?.code, at: ev.originStep };
          },
        }),
      )
      .respond();
    expect(await serve(g).test('/', 1)).toEqual({ body: [0, 1, 2], error: 'SG_ERR_STEP_FAILED', at: 'p' });
  });

  test("'partial': a per-chunk step failing, and the Collector's own limit", async () => {
    const bad = new MapStep({
      name: 'bad',
      handler: (w: string) => {
        if (w === 'c') throw new SgError('SG_ERR_STEP_FAILED', 'no c');
        return w;
      },
    });
    const s1 = through(new Collector({ name: 'c', onStreamError: 'partial' }), words(), bad);
    expect(await s1.test('/', 'a b c d')).toMatchObject({ body: 'ab', error: 'SG_ERR_STEP_FAILED', originStep: 'bad' });
    const s2 = through(new Collector({ name: 'c', onStreamError: 'partial', maxChunks: 2 }), words());
    expect(await s2.test('/', 'a b c d')).toMatchObject({
      body: 'ab',
      error: 'SG_ERR_STREAM_TOO_LARGE',
      originStep: 'c',
    });
  });
});

describe('options', () => {
  test.each<[unknown]>([
    [{ timeoutMs: -1 }],
    [{ timeoutMs: '5' }],
    [{ idleTimeoutMs: Number.NaN }],
    [{ maxChunks: 0 }],
    [{ maxChunks: 1.5 }],
    [{ onStreamError: 'ignore' }],
    [{ reducer: { init: () => 0 } }],
    [{ reducer: { init: () => 0, step: () => 0, finish: 1 } }],
    [{ unknown: 1 }],
  ])('%o throws SG_ERR_INVALID_OPTION', (options) => {
    throwsSg(() => new Collector(options as never), 'SG_ERR_INVALID_OPTION');
  });
});
