import { expect, test } from 'vitest';
import { Collector, createGraph, createMockServer, Filter, MapStep } from '../../src/index.js';

const words = () =>
  new MapStep({
    name: 'words',
    handler: async function* (text: string) {
      for (const w of text.split(' ')) yield w;
      return { words: text.split(' ').length };
    },
  });

test('chunks flow through per-chunk steps to testStream, in order, with done', async () => {
  const g = createGraph();
  g.to(words())
    .to(new MapStep({ name: 'up', handler: (w: string) => w.toUpperCase() }))
    .to(new Filter({ name: 'f', handler: (w: string) => w !== 'B' }))
    .respond();
  const s = createMockServer(g);
  const st = s.testStream('/', 'a b c');
  const got: unknown[] = [];
  for await (const c of st) got.push(c);
  expect(got).toEqual(['A', 'C']);
  expect(await st.done).toMatchObject({ chunks: 2, words: 3 });
  expect(await s.test('/', 'x y')).toBe('XY');
  await s.close();
});

test('a collector merges', async () => {
  const g = createGraph();
  g.to(words())
    .to(new Collector({ name: 'c' }))
    .to(new MapStep({ name: 'len', handler: (t: string) => t.length }))
    .respond();
  const s = createMockServer(g);
  expect(await s.test('/', 'ab cd')).toBe(4);
  const out: unknown[] = [];
  for await (const c of s.testStream('/', 'ab cd')) out.push(c);
  expect(out).toEqual([4]);
  await s.close();
});

test('leaving the loop early cancels the producer', async () => {
  let aborted = false;
  let closed = false;
  const g = createGraph();
  g.to(
    new MapStep({
      name: 'forever',
      handler: async function* (_x: unknown, ctx) {
        try {
          for (let i = 0; ; i++) {
            yield i;
            await new Promise((r) => setTimeout(r, 1));
          }
        } finally {
          aborted = ctx.signal.aborted;
          closed = true;
        }
      },
    }),
  ).respond();
  const s = createMockServer(g);
  let n = 0;
  for await (const _c of s.testStream('/', 1)) if (++n === 3) break;
  await new Promise((r) => setTimeout(r, 50));
  expect(closed).toBe(true);
  expect(aborted).toBe(true);
  await s.close();
});

test('validation rules', () => {
  const gen = (name: string) =>
    new MapStep({
      name,
      handler: async function* (t: string) {
        yield t;
      },
    });
  const g1 = createGraph();
  g1.to(gen('words')).to(gen('letters'));
  expect(() => g1.validate()).toThrow(
    /SG_ERR_STREAM_ON_STREAM|letters' streams but its input is the stream of step 'words'/,
  );
  const g2 = createGraph();
  g2.to(gen('words'))
    .to(new Collector({ name: 'c' }))
    .to(gen('letters'));
  expect(() => g2.validate()).not.toThrow();
  const g3 = createGraph();
  const prep = g3.to(new MapStep({ name: 'prep', handler: (b: unknown) => b }));
  prep.to(gen('words'));
  prep.to(new MapStep({ name: 'lookup', handler: (b: unknown) => b }));
  g3.add(new MapStep({ name: 'join', handler: (b: unknown) => b }), { after: ['words', 'lookup'] });
  expect(() => g3.validate()).toThrow(/'join' merges the stream of 'words'/);
  g3.setStreaming(false);
  expect(() => g3.validate()).not.toThrow();
});
