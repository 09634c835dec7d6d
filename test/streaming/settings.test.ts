// streaming.md, "graph.setStreaming(enabled)", and spec files: Collector params, the root `streaming` key.
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { Collector, createGraph, Graph, MapStep, SgError } from '../../src/index.js';
import { closeServersAfterEach, readAll, rejectsSg, serve, throwsSg, words } from './helpers.js';

closeServersAfterEach();

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

describe('setStreaming', () => {
  test('enabled by default; returns the graph; the bound is checked', () => {
    const g = createGraph();
    expect(g.streaming).toBe(true);
    expect(g.setStreaming(false)).toBe(g);
    expect(g.streaming).toBe(false);
    g.setStreaming(true, { maxBufferedChunks: 32 });
    expect(g.streaming).toBe(true);
    for (const bad of [0, 1.5, -1, '4']) {
      throwsSg(() => g.setStreaming(true, { maxBufferedChunks: bad as number }), 'SG_ERR_INVALID_OPTION');
    }
    throwsSg(() => g.setStreaming(true, { other: 1 } as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => g.setStreaming('yes' as never), 'SG_ERR_INVALID_OPTION');
  });

  test('cannot change while a server uses the graph; read when a server is created', async () => {
    const g = createGraph();
    g.to(words()).respond();
    const s = serve(g);
    throwsSg(() => g.setStreaming(false), 'SG_ERR_GRAPH_IN_USE');
    expect(await readAll(s.testStream('/', 'a b'))).toEqual(['a', 'b']);
    await s.close();
    g.setStreaming(false);
    expect(await readAll(serve(g).testStream('/', 'a b'))).toEqual(['ab']);
  });

  test('disabled: a streaming step is collected at the step and emits one event', async () => {
    const calls: unknown[] = [];
    const g = createGraph();
    g.setStreaming(false);
    g.to(words('words', { inputPath: 'q', resultPath: 'r' }))
      .to(
        new MapStep({
          name: 'after',
          handler: (b: { r: string }) => {
            calls.push(b);
            return b.r.toUpperCase();
          },
        }),
      )
      .respond();
    const s = serve(g);
    expect(await s.test('/', { q: 'a b' })).toBe('AB');
    expect(calls).toEqual([{ q: 'a b', r: 'ab' }]);
    const st = s.testStream('/', { q: 'x y' }, { id: 'one' });
    expect(await readAll(st)).toEqual(['XY']);
    expect(await st.done).toEqual({ id: 'one', chunks: 1 });
  });

  test("disabled: the step's collect is used; Collectors pass through; a stream into a stream runs", async () => {
    const g = createGraph();
    g.setStreaming(false);
    g.to(words('words', { collect: (chunks: string[], summary: unknown) => ({ chunks, summary }) }))
      .to(new Collector({ name: 'c', maxChunks: 1, reducer: { init: () => 'never', step: () => 'never' } }))
      .to(new MapStep({ name: 'first', handler: (b: { chunks: string[] }) => b.chunks[0] }))
      .to(
        new MapStep({
          name: 'letters',
          handler: async function* (w: string) {
            yield* w;
          },
        }),
      )
      .respond();
    expect(() => g.validate()).not.toThrow();
    expect(await serve(g).test('/', 'hello world')).toBe('hello');
  });

  test('disabled: a failing streaming step fails as a plain step, error chunks included', async () => {
    const g = createGraph();
    g.setStreaming(false);
    g.to(
      new MapStep({
        name: 'p',
        handler: async function* () {
          yield 1;
          yield new SgError('SG_ERR_BAD_REQUEST', 'no');
        },
      }),
    ).respond();
    await rejectsSg(serve(g).test('/', 1), 'SG_ERR_BAD_REQUEST');
  });
});

describe('spec files', () => {
  test('Collector params and the root streaming object; the file runs', async () => {
    const g = Graph.fromFile(`${FIXTURES}graph.yaml`);
    expect(g.streaming).toBe(true);
    const c = g._steps.get('collect') as Collector;
    expect([c.timeoutMs, c.idleTimeoutMs, c.maxChunks, c.onStreamError]).toEqual([5000, 1000, 50, 'partial']);
    const s = serve(g);
    expect(await s.test('/', { text: 'a b' })).toEqual({ body: { text: 'a b', out: 'AB' }, error: undefined });
    const spec = g.toSpec();
    expect(spec.streaming).toEqual({ enabled: true, maxBufferedChunks: 4 });
    expect((spec.steps as Record<string, unknown>).collect).toMatchObject({
      class: 'Collector',
      after: ['upper'],
      params: { timeoutMs: 5000, idleTimeoutMs: 1000, maxChunks: 50, onStreamError: 'partial' },
    });
  });

  test('save and load: the loaded graph runs the same', async () => {
    const g = Graph.fromFile(`${FIXTURES}graph.yaml`);
    const again = Graph.fromSpec(JSON.parse(JSON.stringify(g.toSpec())), { baseDir: FIXTURES });
    expect(again.toSpec()).toEqual(g.toSpec());
    const [a, b] = [serve(g), serve(again)];
    for (const body of [{ text: 'one two three' }, { text: 'x' }])
      expect(await b.test('/', body)).toEqual(await a.test('/', body));
  });

  test.each([
    [false, false, 16],
    [true, true, 16],
    [{ enabled: false }, false, 16],
    [{ maxBufferedChunks: 2 }, true, 2],
    [{ enabled: false, maxBufferedChunks: 3 }, false, 3],
  ])('root streaming %o', (streaming, enabled, max) => {
    const g = Graph.fromSpec({
      streaming,
      steps: { words: { class: 'MapStep', handler: './handlers.mjs#words', params: { streaming: true } } },
    });
    expect(g.streaming).toBe(enabled);
    expect(g._streaming.maxBufferedChunks).toBe(max);
    const written = g.toSpec().streaming;
    expect(written).toEqual(max === 16 ? enabled : { enabled, maxBufferedChunks: max });
    expect(Graph.fromSpec(g.toSpec()).streaming).toBe(enabled);
  });

  test('streaming: true in params with a handler returning an async iterable; streaming off runs it whole', async () => {
    const spec = (streaming: boolean) => ({
      streaming,
      steps: {
        chars: { class: 'MapStep', handler: './handlers.mjs#chars', params: { streaming: true }, responder: true },
      },
    });
    expect(await readAll(serve(Graph.fromSpec(spec(true), { baseDir: FIXTURES })).testStream('/', 'abc'))).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(await readAll(serve(Graph.fromSpec(spec(false), { baseDir: FIXTURES })).testStream('/', 'abc'))).toEqual([
      'abc',
    ]);
  });

  test('bad values: SG_ERR_INVALID_SPEC with the path', () => {
    const path = (spec: unknown) =>
      (throwsSg(() => Graph.fromSpec(spec), 'SG_ERR_INVALID_SPEC').details as { path: string }).path;
    const steps = { c: { class: 'Collector', params: { maxChunks: 0 } } };
    expect(path({ steps })).toBe('steps.c.params.maxChunks');
    expect(path({ steps: {}, streaming: { maxBufferedChunks: 0 } })).toBe('streaming.maxBufferedChunks');
    expect(path({ steps: {}, streaming: 'yes' })).toBe('streaming');
    expect(path({ steps: {}, maxBufferedChunks: 4 })).toBe('');
  });

  test('a reducer or a collect function cannot be written: SG_ERR_NOT_SERIALIZABLE', () => {
    const g1 = createGraph();
    g1.to(new Collector({ name: 'c', reducer: { init: () => 0, step: () => 0 } }));
    expect(throwsSg(() => g1.toSpec(), 'SG_ERR_NOT_SERIALIZABLE').step).toBe('c');
    const g2 = createGraph();
    g2.to(new MapStep({ name: 'm', handler: './h.mjs#h', collect: () => 1 }));
    expect(throwsSg(() => g2.toSpec(), 'SG_ERR_NOT_SERIALIZABLE').step).toBe('m');
  });
});
