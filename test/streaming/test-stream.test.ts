// streaming.md, "The mock server": testStream() and test() on graphs whose reply streams.
import { describe, expect, test } from 'vitest';
import { Collector, createGraph, type Event, Filter, MapStep, SgError } from '../../src/index.js';
import { closeServersAfterEach, deferred, readAll, rejectsSg, serve, sleep, words } from './helpers.js';

closeServersAfterEach();

describe('testStream()', () => {
  test('yields each chunk as it is produced', async () => {
    const gates = [deferred(), deferred(), deferred()];
    let produced = 0;
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'p',
        handler: async function* () {
          for (const gate of gates) {
            await gate.promise;
            produced++;
            yield produced;
          }
        },
      }),
    ).respond();
    const it = serve(g).testStream('/', 1)[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) {
      const next = it.next();
      gates[i].resolve();
      expect(await next).toEqual({ value: i + 1, done: false });
      expect(produced).toBe(i + 1); // the consumer has chunk i before chunk i + 1 exists
    }
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  test('done resolves with the done payload', async () => {
    const g = createGraph();
    g.to(words()).respond();
    const st = serve(g).testStream('/', 'a b c', { id: 'd1' });
    expect(await readAll(st)).toEqual(['a', 'b', 'c']);
    expect(await st.done).toEqual({ id: 'd1', chunks: 3, words: 3 });
    expect(await st.done).toEqual({ id: 'd1', chunks: 3, words: 3 });
  });

  test('done may be awaited before reading, and resolves once the stream is read', async () => {
    const g = createGraph();
    g.to(words()).respond();
    const st = serve(g).testStream('/', 'a b', { id: 'd2' });
    const done = st.done;
    expect(await readAll(st)).toEqual(['a', 'b']);
    expect(await done).toMatchObject({ id: 'd2', chunks: 2 });
  });

  test('a non-streaming reply yields exactly one item', async () => {
    const g = createGraph();
    g.to(new MapStep({ name: 'm', handler: (b: { n: number }) => ({ n: b.n * 2 }) })).respond();
    const st = serve(g).testStream('/', { n: 2 }, { id: 'one' });
    expect(await readAll(st)).toEqual([{ n: 4 }]);
    expect(await st.done).toEqual({ id: 'one', chunks: 1 });
  });

  test('a stream collected before the responder yields one item', async () => {
    const g = createGraph();
    g.to(words())
      .to(new Collector({ name: 'c' }))
      .respond();
    expect(await readAll(serve(g).testStream('/', 'a b'))).toEqual(['ab']);
  });

  test('a reply of undefined yields none; done has chunks: 0', async () => {
    const g = createGraph();
    g.to(new Filter({ name: 'drop', handler: () => false })).respond();
    const st = serve(g).testStream('/', 1, { id: 'u' });
    expect(await readAll(st)).toEqual([]);
    expect(await st.done).toEqual({ id: 'u', chunks: 0 });
  });

  test('a streaming graph whose chunks are all dropped: the stream ends with no item', async () => {
    const g = createGraph();
    g.to(words())
      .to(new Filter({ name: 'drop', handler: () => false }))
      .respond();
    const s = serve(g);
    const st = s.testStream('/', 'a b', { id: 'v' });
    expect(await readAll(st)).toEqual([]);
    expect(await st.done).toEqual({ id: 'v', chunks: 0, words: 2 });
    expect(await s.test('/', 'a b')).toEqual([]);
  });

  test('fullEvent: chunk events (with stream), then the end marker', async () => {
    const g = createGraph();
    g.to(words()).respond();
    const evs = (await readAll(serve(g).testStream('/', 'a b', { id: 'f', fullEvent: true }))) as Event[];
    expect(evs.map((e) => [e.id, e.body, e.stream?.seq, e.stream?.last])).toEqual([
      ['f', 'a', 0, false],
      ['f', 'b', 1, false],
      ['f', { id: 'f', chunks: 2, words: 2 }, 2, true],
    ]);
  });

  test('SG_ERR_NO_RESPONDER from the iterator on a graph without a responder', async () => {
    const g = createGraph();
    g.to(words());
    const s = serve(g);
    const st = s.testStream('/', 'a b');
    await rejectsSg(st[Symbol.asyncIterator]().next(), 'SG_ERR_NO_RESPONDER');
    await rejectsSg(st.done, 'SG_ERR_NO_RESPONDER');
    expect(await s.test('/', 'a b', { id: 'fire' })).toEqual({ id: 'fire' });
  });

  test('an error before the first chunk rejects the first next(); an unread done is no unhandled rejection', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'p',
        // biome-ignore lint/correctness/useYield: it fails before its first chunk
        handler: async function* () {
          throw new SgError('SG_ERR_BAD_REQUEST', 'nope');
        },
      }),
    ).respond();
    const st = serve(g).testStream('/', 1);
    await rejectsSg(st[Symbol.asyncIterator]().next(), 'SG_ERR_BAD_REQUEST');
    await sleep(10); // an unhandled rejection of `done` would fail the run here
  });

  test('bad options, and SG_ERR_SERVER_CLOSED after close()', async () => {
    const g = createGraph();
    g.to(words()).respond();
    const s = serve(g);
    await rejectsSg(readAll(s.testStream('nope', 'a')), 'SG_ERR_INVALID_OPTION');
    await s.close();
    await rejectsSg(readAll(s.testStream('/', 'a')), 'SG_ERR_SERVER_CLOSED');
  });

  test('maxConcurrency counts open streams until they end', async () => {
    const gate = deferred();
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'p',
        handler: async function* () {
          yield 1;
          await gate.promise;
          yield 2;
        },
      }),
    ).respond();
    const s = serve(g, { maxConcurrency: 1 });
    const first = s.testStream('/', 1);
    const it = first[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe(1);
    await rejectsSg(readAll(s.testStream('/', 1)), 'SG_ERR_OVERLOADED');
    gate.resolve();
    expect((await it.next()).value).toBe(2);
    expect((await it.next()).done).toBe(true);
    expect(await readAll(s.testStream('/', 1))).toEqual([1, 2]);
  });
});

describe('test() on a graph whose reply streams', () => {
  test('resolves with what a default Collector at the responder would emit', async () => {
    const g = createGraph();
    g.to(words('words', { inputPath: 'q', resultPath: 'answer' }))
      .to(new MapStep({ name: 'up', handler: (w: string) => w.toUpperCase() }))
      .respond();
    const s = serve(g);
    expect(await s.test('/', { q: 'hi there' })).toEqual({ q: 'hi there', answer: 'HITHERE' });

    const g2 = createGraph();
    g2.to(words('words', { inputPath: 'q', resultPath: 'answer' }))
      .to(new MapStep({ name: 'up', handler: (w: string) => w.toUpperCase() }))
      .to(new Collector())
      .respond();
    expect(await serve(g2).test('/', { q: 'hi there' })).toEqual(await s.test('/', { q: 'hi there' }));
  });
});
