// streaming.md, "The chunk event", "How it merges" (default merge, `collect`), the producer's `resultPath`,
// and what test() returns on a graph whose reply streams.
import { describe, expect, test } from 'vitest';
import { Collector, createGraph, type Event, MapStep, type StreamDone } from '../../src/index.js';
import { closeServersAfterEach, readAll, rejectsSg, serve, words } from './helpers.js';

closeServersAfterEach();

describe('chunk events and end markers', () => {
  test('chunk events carry the originating event fields and stream { id, seq, last, step }', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'prep',
        fullEvent: true,
        handler: (ev: Event) => {
          ev.meta.tag = 'x';
          return ev;
        },
      }),
    )
      .to(words())
      .respond();
    const s = serve(g);
    const got = (await readAll(
      s.testStream('/p', 'a b c', { id: 'ev-1', headers: { 'X-User': 'ann' }, fullEvent: true }),
    )) as Event[];
    expect(got).toHaveLength(4);
    const chunks = got.slice(0, 3);
    const end = got[3];
    expect(chunks.map((c) => c.body)).toEqual(['a', 'b', 'c']);
    const sid = chunks[0].stream!.id;
    expect(typeof sid).toBe('string');
    expect(sid).not.toBe('ev-1');
    chunks.forEach((c, i) => {
      expect(c.stream).toEqual({ id: sid, seq: i, last: false, step: 'words' });
      expect(c.id).toBe('ev-1');
      expect(c.path).toBe('/p');
      expect(c.method).toBe('POST');
      expect(c.headers['x-user']).toBe('ann');
      expect(c.query).toEqual({});
      expect(c.contentType).toBe('');
      expect(c.timestamp).toBeInstanceOf(Date);
      expect(c.meta.tag).toBe('x');
    });
    expect(chunks[0].timestamp.getTime()).toBe(end.timestamp.getTime());
    expect(end.stream).toEqual({ id: sid, seq: 3, last: true, step: 'words' });
    expect(end.id).toBe('ev-1');
    expect(end.body).toEqual({ id: 'ev-1', chunks: 3, words: 3 });
    expect((end.body as StreamDone).id).toBe(end.id);
  });

  test('stream.id is unique per stream, even for events with the same id', async () => {
    const g = createGraph();
    g.to(words()).respond();
    const s = serve(g);
    const ids = new Set<string>();
    const runs = await Promise.all(
      Array.from({ length: 5 }, () => readAll(s.testStream('/', 'a b', { id: 'same', fullEvent: true }))),
    );
    for (const evs of runs) {
      const sids = new Set((evs as Event[]).map((e) => e.stream!.id));
      expect(sids.size).toBe(1);
      for (const e of evs as Event[]) expect(e.id).toBe('same');
      ids.add([...sids][0]);
    }
    expect(ids.size).toBe(5);
  });

  test("each chunk gets a shallow copy of the origin's meta", async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'prep',
        fullEvent: true,
        handler: (ev: Event) => {
          ev.meta.tag = 'x';
          return ev;
        },
      }),
    )
      .to(words())
      .to(
        new MapStep({
          name: 'mark',
          fullEvent: true,
          handler: (ev: Event) => {
            expect(ev.meta.seen).toBeUndefined(); // no chunk sees another's annotation
            ev.meta.seen = ev.stream!.seq;
            return ev;
          },
        }),
      )
      .to(new Collector({ name: 'c' }))
      .to(new MapStep({ name: 'meta', fullEvent: true, handler: (ev: Event) => ({ ...ev.meta }) }))
      .respond();
    expect(await serve(g).test('/', 'a b c')).toEqual({ tag: 'x' });
  });

  test('the summary: a plain object is spread (id and chunks win), any other value goes under result', async () => {
    const producer = (summary: unknown) =>
      new MapStep({
        name: 'p',
        handler: async function* () {
          yield 'x';
          return summary;
        },
      });
    const doneOf = async (summary: unknown) => {
      const g = createGraph();
      g.to(producer(summary)).respond();
      const st = serve(g).testStream('/', null, { id: 'e' });
      await readAll(st);
      return st.done;
    };
    expect(await doneOf({ usage: { total_tokens: 3 }, id: 'other', chunks: 99 })).toEqual({
      id: 'e',
      chunks: 1,
      usage: { total_tokens: 3 },
    });
    expect(await doneOf(7)).toEqual({ id: 'e', chunks: 1, result: 7 });
    expect(await doneOf([1, 2])).toEqual({ id: 'e', chunks: 1, result: [1, 2] });
    expect(await doneOf('fin')).toEqual({ id: 'e', chunks: 1, result: 'fin' });
    expect(await doneOf(undefined)).toEqual({ id: 'e', chunks: 1 });
  });

  test('a stream with no chunk: the end marker has seq 0 and the done payload chunks 0', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'none',
        // biome-ignore lint/correctness/useYield: a stream with no chunk
        handler: async function* () {
          return { why: 'empty' };
        },
      }),
    ).respond();
    const s = serve(g);
    const evs = (await readAll(s.testStream('/', 1, { id: 'z', fullEvent: true }))) as Event[];
    expect(evs).toHaveLength(1);
    expect(evs[0].stream).toMatchObject({ seq: 0, last: true, step: 'none' });
    expect(evs[0].body).toEqual({ id: 'z', chunks: 0, why: 'empty' });
    expect(await s.test('/', 1)).toEqual([]);
  });

  test('a sync generator handler streams too', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'sync',
        handler: function* (n: number) {
          for (let i = 0; i < n; i++) yield i;
        },
      }),
    ).respond();
    const s = serve(g);
    expect(await readAll(s.testStream('/', 3))).toEqual([0, 1, 2]);
    expect(await s.test('/', 3)).toEqual([0, 1, 2]);
  });
});

describe("the producer's resultPath and inputPath", () => {
  test('resultPath is not applied to chunks, only when the stream is collected', async () => {
    const g = createGraph();
    g.to(words('words', { inputPath: 'text', resultPath: 'out' })).respond();
    const s = serve(g);
    expect(await readAll(s.testStream('/', { text: 'a b', keep: 1 }))).toEqual(['a', 'b']);
    expect(await s.test('/', { text: 'a b', keep: 1 })).toEqual({ text: 'a b', keep: 1, out: 'ab' });
  });

  test('a Collector places the merged value at the producer resultPath of the body it received', async () => {
    const g = createGraph();
    g.to(words('words', { inputPath: 'text', resultPath: 'out.joined' }))
      .to(new MapStep({ name: 'upper', handler: (w: string) => w.toUpperCase() }))
      .to(new Collector({ name: 'c' }))
      .respond();
    expect(await serve(g).test('/', { text: 'a b' })).toEqual({ text: 'a b', out: { joined: 'AB' } });
  });
});

describe('how a stream is merged', () => {
  const mergeOf = async (chunks: unknown[]) => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'p',
        handler: async function* () {
          for (const c of chunks) yield c;
        },
      }),
    ).respond();
    return serve(g).test('/', null);
  };

  test.each([
    ['none', [], []],
    ['all strings', ['Hel', 'lo'], 'Hello'],
    ['all arrays, one level', [[1], [2, 3], [[4]]], [1, 2, 3, [4]]],
    ['objects', [{ a: 1 }, { a: 2 }], [{ a: 1 }, { a: 2 }]],
    ['mixed', ['a', 1, [2]], ['a', 1, [2]]],
    ['one string', ['only'], 'only'],
    ['one object (never the chunk itself)', [{ a: 1 }], [{ a: 1 }]],
    ['numbers', [1, 2], [1, 2]],
  ])('default merge: %s', async (_what, chunks, merged) => {
    expect(await mergeOf(chunks)).toEqual(merged);
  });

  test('default merge: all Uint8Array concatenate into one Uint8Array', async () => {
    const out = await mergeOf([new Uint8Array([1, 2]), new Uint8Array([3])]);
    expect(out).toBeInstanceOf(Uint8Array);
    expect([...(out as Uint8Array)]).toEqual([1, 2, 3]);
  });

  test("the producer's collect option replaces the default merge (test() and Collector)", async () => {
    const collect = (chunks: unknown[], summary: unknown) => ({ text: (chunks as string[]).join('+'), summary });
    const g1 = createGraph();
    g1.to(words('words', { collect })).respond();
    expect(await serve(g1).test('/', 'a b')).toEqual({ text: 'a+b', summary: { words: 2 } });

    const g2 = createGraph();
    g2.to(words('words', { collect, inputPath: 'text', resultPath: 'r' }))
      .to(new MapStep({ name: 'up', handler: (w: string) => w.toUpperCase() }))
      .to(new Collector({ name: 'c' }))
      .respond();
    expect(await serve(g2).test('/', { text: 'a b' })).toEqual({
      text: 'a b',
      r: { text: 'A+B', summary: { words: 2 } },
    });
  });

  test('a collect that throws, or a resultPath that cannot be written, fails the collected reply', async () => {
    const g1 = createGraph();
    g1.to(
      words('words', {
        collect: () => {
          throw new Error('bad collect');
        },
      }),
    ).respond();
    const e1 = await rejectsSg(serve(g1).test('/', 'a b'), 'SG_ERR_STEP_FAILED');
    expect(e1.step).toBe('words');
    expect(e1.message).toContain('bad collect');

    const g2 = createGraph();
    g2.to(words('words', { resultPath: 'out' }))
      .to(new Collector({ name: 'c' }))
      .respond();
    await rejectsSg(serve(g2).test('/', 'a b'), 'SG_ERR_PATH_TARGET');
  });
});
