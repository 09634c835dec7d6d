// streaming.md, "Steps after a streaming step", "Declaring a streaming step" and "Ordering".
import { describe, expect, test } from 'vitest';
import {
  Choice,
  Collector,
  createGraph,
  type Event,
  Filter,
  FlatMap,
  MapStep,
  Step,
  type StepContext,
} from '../../src/index.js';
import { closeServersAfterEach, readAll, rejectsSg, serve, sleep, words } from './helpers.js';

closeServersAfterEach();

describe('per-chunk steps', () => {
  test('MapStep and Filter run once per chunk, with the chunk as body', async () => {
    const calls: unknown[] = [];
    const g = createGraph();
    g.to(words())
      .to(
        new MapStep({
          name: 'up',
          handler: (w: string) => {
            calls.push(w);
            return w.toUpperCase();
          },
        }),
      )
      .to(new Filter({ name: 'noB', handler: (w: string) => w !== 'B' }))
      .respond();
    const s = serve(g);
    const st = s.testStream('/', 'a b c');
    expect(await readAll(st)).toEqual(['A', 'C']);
    expect(calls).toEqual(['a', 'b', 'c']);
    // done counts the chunks delivered to this consumer; the producer's summary is spread
    expect(await st.done).toMatchObject({ chunks: 2, words: 3 });
    expect(await s.test('/', 'x b y')).toBe('XY');
  });

  test('step handlers never receive the end marker', async () => {
    const seen: Array<Event['stream']> = [];
    const g = createGraph();
    g.to(words())
      .to(
        new MapStep({
          name: 'spy',
          fullEvent: true,
          handler: (ev: Event) => {
            seen.push(ev.stream);
            return ev;
          },
        }),
      )
      .respond();
    await readAll(serve(g).testStream('/', 'a b'));
    expect(seen.map((s) => [s?.seq, s?.last])).toEqual([
      [0, false],
      [1, false],
    ]);
  });

  test('FlatMap turns a chunk into several chunks of the same stream that keep its seq', async () => {
    const g = createGraph();
    g.to(words())
      .to(new FlatMap({ name: 'letters', handler: (w: string) => [...w] }))
      .respond();
    const s = serve(g);
    const st = s.testStream('/', 'ab c', { fullEvent: true });
    const evs = (await readAll(st)) as Event[];
    expect(await st.done).toEqual(evs[3].body);
    expect(evs.map((e) => [e.body, e.stream!.seq, e.stream!.last])).toEqual([
      ['a', 0, false],
      ['b', 0, false],
      ['c', 1, false],
      [{ id: expect.any(String), chunks: 3, words: 2 }, 2, true], // chunks: delivered to this consumer
    ]);
    expect(new Set(evs.map((e) => e.stream!.id)).size).toBe(1);
    expect(await s.test('/', 'ab c')).toBe('abc');
  });

  test('an async FlatMap per chunk; an empty result drops the chunk', async () => {
    const g = createGraph();
    g.to(words())
      .to(
        new FlatMap({
          name: 'dup',
          handler: async function* (w: string) {
            if (w === 'skip') return;
            await sleep(1);
            yield w;
            yield w;
          },
        }),
      )
      .respond();
    expect(await readAll(serve(g).testStream('/', 'a skip b'))).toEqual(['a', 'a', 'b', 'b']);
  });

  test('Choice routes each chunk on its own; the end marker goes to every branch', async () => {
    const results: Array<[string, unknown]> = [];
    const g = createGraph();
    const choice = g
      .to(words())
      .to(new Choice({ name: 'route', handler: (w: string) => (w.length > 1 ? 'long' : w === '-' ? [] : 'short') }));
    for (const name of ['short', 'long']) {
      choice
        .to(new MapStep({ name, handler: (w: string) => w }))
        .to(new Collector({ name: `c-${name}` }))
        .to(
          new MapStep({
            name: `rec-${name}`,
            handler: (b: unknown) => {
              results.push([name, b]);
              return b;
            },
          }),
        );
    }
    const s = serve(g);
    await s.test('/', 'a bb - c dd');
    await s.test('/', 'x y'); // nothing goes to 'long': its Collector still emits, for the end marker alone
    expect(results).toEqual([
      ['short', 'ac'],
      ['long', 'bbdd'],
      ['short', 'xy'],
      ['long', []],
    ]);
  });

  test('user steps run per chunk', async () => {
    class Tag extends Step<string, string> {
      override do(w: string, ctx: StepContext) {
        return `${w}@${ctx.event.stream?.seq}`;
      }
    }
    const g = createGraph();
    g.to(words())
      .to(new Tag({ name: 'tag' }))
      .respond();
    expect(await readAll(serve(g).testStream('/', 'a b'))).toEqual(['a@0', 'b@1']);
  });

  test('a streaming step may emit a plain event for some inputs', async () => {
    const seen: unknown[] = [];
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'maybe',
        streaming: true,
        handler: async (n: number) =>
          n > 0
            ? (async function* () {
                for (let i = 0; i < n; i++) yield i;
              })()
            : 'plain',
      }),
    )
      .to(
        new MapStep({
          name: 'spy',
          fullEvent: true,
          handler: (ev: Event) => {
            seen.push(ev.stream === undefined ? 'plain' : 'chunk');
            return ev;
          },
        }),
      )
      .to(new Collector({ name: 'c' }))
      .respond();
    const s = serve(g);
    expect(await s.test('/', 0)).toBe('plain');
    expect(await readAll(s.testStream('/', 0))).toEqual(['plain']);
    expect(await s.test('/', 2)).toEqual([0, 1]);
    expect(seen).toEqual(['plain', 'plain', 'chunk', 'chunk']);
  });
});

describe('declaring a streaming step', () => {
  test('a user step with a generator do method streams', async () => {
    class Split extends Step<string, unknown> {
      override async *do(text: string) {
        yield* text.split(' ');
        return { n: text.split(' ').length };
      }
    }
    const step = new Split({ name: 'split' });
    expect(step.streaming).toBe(true);
    const g = createGraph();
    g.to(step).respond();
    const st = serve(g).testStream('/', 'a b');
    expect(await readAll(st)).toEqual(['a', 'b']);
    expect(await st.done).toMatchObject({ chunks: 2, n: 2 });
  });

  test('streaming: true with a handler returning an async iterable (not a generator function)', async () => {
    const source = async function* (n: number, signal: AbortSignal) {
      for (let i = 0; i < n && !signal.aborted; i++) yield i;
    };
    const step = new MapStep({ name: 'client', streaming: true, handler: (n: number, ctx) => source(n, ctx.signal) });
    expect(step.streaming).toBe(true);
    class Client extends Step<number, unknown> {
      override do(n: number, ctx: StepContext) {
        return source(n, ctx.signal);
      }
    }
    for (const s of [step, new Client({ name: 'client', streaming: true })]) {
      const g = createGraph();
      g.to(s).respond();
      expect(await readAll(serve(g).testStream('/', 3))).toEqual([0, 1, 2]);
    }
  });

  test('SG_ERR_STREAM_UNDECLARED: a non-streaming step returning an async iterable', async () => {
    const iter = async function* () {
      yield 1;
    };
    const map = new MapStep({ name: 'x', handler: () => iter() });
    expect(map.streaming).toBe(false);
    class Later extends Step {
      override async do() {
        return iter();
      }
    }
    for (const step of [map, new Later({ name: 'x' })]) {
      const g = createGraph();
      g.to(step).respond();
      const s = serve(g);
      const err = await rejectsSg(s.test('/', 1), 'SG_ERR_STREAM_UNDECLARED');
      expect(err.message).toBe(
        "step 'x' returned an async iterable but is not a streaming step; use an async generator handler or set streaming: true",
      );
      await rejectsSg(readAll(s.testStream('/', 1)), 'SG_ERR_STREAM_UNDECLARED');
    }
  });

  test('Filter, Choice and FlatMap never stream', () => {
    const gen = async function* () {};
    expect(new Filter({ name: 'f', handler: gen as never }).streaming).toBe(false);
    expect(new Choice({ name: 'c', handler: gen as never }).streaming).toBe(false);
    expect(new FlatMap({ name: 'm', handler: gen }).streaming).toBe(false);
  });
});

describe('ordering', () => {
  test('100 streams at once: each in order, none mixed, through an async per-chunk step', async () => {
    const seqs = new Map<string, number[]>(); // per stream id, the seqs the async step saw
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'gen',
        handler: async function* (k: number) {
          for (let i = 0; i < 20; i++) {
            if (i % 3 === k % 3) await sleep(0);
            yield { k, i };
          }
        },
      }),
    )
      .to(
        new MapStep({
          name: 'slow',
          fullEvent: true,
          handler: async (ev: Event) => {
            const list = seqs.get(ev.stream!.id) ?? [];
            list.push(ev.stream!.seq);
            seqs.set(ev.stream!.id, list);
            await sleep(Math.random() < 0.3 ? 1 : 0);
            return ev;
          },
        }),
      )
      .to(new MapStep({ name: 'pass', handler: (c: { k: number; i: number }) => c }))
      .respond();
    const s = serve(g);
    const all = await Promise.all(Array.from({ length: 100 }, (_, k) => readAll(s.testStream('/', k))));
    all.forEach((chunks, k) => {
      expect(chunks).toEqual(Array.from({ length: 20 }, (_, i) => ({ k, i })));
    });
    expect(seqs.size).toBe(100);
    for (const list of seqs.values()) expect(list).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  test('a per-chunk step handles one chunk of a stream at a time', async () => {
    let inside = 0;
    let most = 0;
    const g = createGraph();
    g.to(words())
      .to(
        new MapStep({
          name: 'slow',
          handler: async (w: string) => {
            most = Math.max(most, ++inside);
            await sleep(2);
            inside--;
            return w;
          },
        }),
      )
      .respond();
    expect(await readAll(serve(g).testStream('/', 'a b c d e'))).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(most).toBe(1);
  });
});
