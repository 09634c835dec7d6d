// streaming.md, "Validation rules": every rule with its code and message, the order in which the first
// violation is found, and the start-up check of handlers and classes named by `module#Export`.
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { Batch, Choice, Collector, createGraph, Filter, FlatMap, Graph, MapStep, type Step } from '../../src/index.js';
import { closeServersAfterEach, rejectsSg, serve, throwsSg, words } from './helpers.js';

closeServersAfterEach();

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const gen = (name: string) =>
  new MapStep({
    name,
    handler: async function* (w: string) {
      yield* w;
    },
  });
const map = (name: string) => new MapStep({ name, handler: (b: unknown) => b });

/** validate() throws `code` with exactly `message`. */
function violates(graph: Graph, code: string, message: string): void {
  expect(throwsSg(() => graph.validate(), code).message).toBe(message);
  throwsSg(() => serve(graph), code); // createMockServer validates too
}

describe('rule 1 (and 5): no streaming step may receive a stream', () => {
  test('a stream straight into a streaming step', () => {
    const g = createGraph();
    g.to(words()).to(gen('letters'));
    violates(
      g,
      'SG_ERR_STREAM_ON_STREAM',
      "step 'letters' streams but its input is the stream of 'words'; put a Collector between them",
    );
  });

  test.each([
    ['MapStep', () => map('trim')],
    ['Filter', () => new Filter({ name: 'trim', handler: () => true })],
    ['FlatMap', () => new FlatMap({ name: 'trim', handler: (w: string) => [w] })],
  ])('through a per-chunk %s', (_kind, per: () => Step) => {
    const g = createGraph();
    g.to(words()).to(per()).to(gen('letters'));
    violates(
      g,
      'SG_ERR_STREAM_ON_STREAM',
      "step 'letters' streams but its input is the stream of 'words'; put a Collector between them",
    );
  });

  test('through a Choice branch', () => {
    const g = createGraph();
    const c = g.to(words()).to(new Choice({ name: 'route', handler: () => 'a' }));
    c.to(map('a'));
    c.to(gen('b'));
    violates(
      g,
      'SG_ERR_STREAM_ON_STREAM',
      "step 'b' streams but its input is the stream of 'words'; put a Collector between them",
    );
  });

  test('a Collector in between fixes it; a graph may start with a streaming step', () => {
    const g = createGraph();
    g.to(words())
      .to(map('per'))
      .to(new Collector({ name: 'c' }))
      .to(gen('letters'))
      .respond();
    expect(() => g.validate()).not.toThrow();
  });
});

describe('rule 2: a stream may only reach per-chunk steps, a Collector, the responder or the end', () => {
  test('a Batch cannot take a stream', () => {
    const g = createGraph();
    g.to(words()).to(new Batch({ name: 'batch', maxEvents: 4 }));
    violates(
      g,
      'SG_ERR_STREAM_NOT_ACCEPTED',
      "Batch 'batch' cannot take the stream of 'words'; put a Collector before it",
    );
    const ok = createGraph();
    ok.to(words())
      .to(new Collector({ name: 'c' }))
      .to(new Batch({ name: 'batch', maxEvents: 4 }));
    expect(() => ok.validate()).not.toThrow();
  });

  test('the responder and the graph end accept streams', () => {
    const g = createGraph();
    g.to(words()).to(map('a')).respond().to(map('after'));
    expect(() => g.validate()).not.toThrow();
  });
});

describe('rule 3: no merge of a stream', () => {
  test("the seed's example", () => {
    const g = createGraph();
    const prep = g.to(map('prep'));
    prep.to(words());
    prep.to(map('lookup'));
    g.add(map('join'), { after: ['words', 'lookup'] });
    violates(
      g,
      'SG_ERR_STREAM_MERGE',
      "'join' merges the stream of 'words'; collect it first (words -> Collector -> join)",
    );
  });

  test('a stream that went through per-chunk steps; collecting on both sides is fine', () => {
    const g = createGraph();
    const c = g.to(words()).to(new Choice({ name: 'route', handler: () => 'a' }));
    c.to(map('a'));
    c.to(map('b'));
    g.add(map('join'), { after: ['a', 'b'] });
    violates(
      g,
      'SG_ERR_STREAM_MERGE',
      "'join' merges the stream of 'words'; collect it first (words -> Collector -> join)",
    );

    const ok = createGraph();
    const c2 = ok.to(words()).to(new Choice({ name: 'route', handler: () => 'a' }));
    c2.to(map('a')).to(new Collector({ name: 'ca' }));
    c2.to(map('b')).to(new Collector({ name: 'cb' }));
    ok.add(map('join'), { after: ['ca', 'cb'] }).respond();
    expect(() => ok.validate()).not.toThrow();
  });
});

describe('the batch rule', () => {
  test('SG_ERR_STREAM_BATCH unless a FlatMap lies between', () => {
    const g = createGraph();
    g.to(new Batch({ name: 'batch', maxEvents: 2 }))
      .to(map('prep'))
      .to(gen('chat'));
    violates(
      g,
      'SG_ERR_STREAM_BATCH',
      "Batch 'batch' feeds streaming step 'chat': streaming a batch is not supported yet; put a FlatMap between them, or disable streaming",
    );
    const ok = createGraph();
    ok.to(new Batch({ name: 'batch', maxEvents: 2 }))
      .to(new FlatMap({ name: 'split', handler: (b: unknown[]) => b }))
      .to(gen('chat'));
    expect(() => ok.validate()).not.toThrow();
  });
});

describe('the first violation found, breadth first from the start steps in edge order', () => {
  test('the shallower violation wins, whatever the edge order', () => {
    const g = createGraph();
    g.to(words('w1')).to(map('deep')).to(gen('deep2')); // depth 3
    g.to(words('w2')).to(new Batch({ name: 'b', maxEvents: 2 })); // depth 2
    expect(throwsSg(() => g.validate(), 'SG_ERR_STREAM_NOT_ACCEPTED').step).toBe('b');
  });

  test('at equal depth, edge order decides', () => {
    const build = (first: 'x' | 'y') => {
      const g = createGraph();
      for (const n of first === 'x' ? ['x', 'y'] : ['y', 'x']) {
        if (n === 'x') g.to(words('wx')).to(gen('lx'));
        else g.to(words('wy')).to(new Batch({ name: 'by', maxEvents: 2 }));
      }
      return g;
    };
    expect(throwsSg(() => build('x').validate(), 'SG_ERR_STREAM_ON_STREAM').step).toBe('lx');
    expect(throwsSg(() => build('y').validate(), 'SG_ERR_STREAM_NOT_ACCEPTED').step).toBe('by');
  });
});

describe('streaming disabled', () => {
  test('no rule is checked', () => {
    const g = createGraph();
    g.to(words())
      .to(gen('letters'))
      .to(new Batch({ name: 'batch', maxEvents: 1 }));
    throwsSg(() => g.validate(), 'SG_ERR_STREAM_ON_STREAM');
    g.setStreaming(false);
    expect(() => g.validate()).not.toThrow();
  });
});

describe('handlers and classes named by module#Export: checked at start-up', () => {
  test('a generator handler reference: validate() passes, ready() rejects with the rule', async () => {
    const g = createGraph({ baseDir: FIXTURES });
    g.to(words())
      .to(new MapStep({ name: 'letters', handler: './handlers.mjs#letters' }))
      .respond();
    expect(() => g.validate()).not.toThrow();
    const s = serve(g);
    const err = await rejectsSg(s.ready(), 'SG_ERR_STREAM_ON_STREAM');
    expect(err.message).toBe(
      "step 'letters' streams but its input is the stream of 'words'; put a Collector between them",
    );
    await rejectsSg(s.test('/', 'a b'), 'SG_ERR_STREAM_ON_STREAM');
  });

  test('a plain handler reference is a per-chunk step', async () => {
    const g = createGraph({ baseDir: FIXTURES });
    g.to(words())
      .to(new MapStep({ name: 'upper', handler: './handlers.mjs#upper' }))
      .respond();
    expect(await serve(g).test('/', 'a b')).toBe('AB');
  });

  test('a generator handler reference streams when it is first', async () => {
    const g = createGraph({ baseDir: FIXTURES });
    g.to(new MapStep({ name: 'letters', handler: './handlers.mjs#letters' })).respond();
    expect(await serve(g).test('/', 'abc')).toBe('abc');
  });

  test('a step class reference in a spec file', async () => {
    const g = Graph.fromSpec(
      {
        steps: {
          words: { class: './handlers.mjs#Split' },
          split: { class: './handlers.mjs#Split', after: 'words', responder: true },
        },
      },
      { baseDir: FIXTURES },
    );
    const s = serve(g);
    const err = await rejectsSg(s.ready(), 'SG_ERR_STREAM_ON_STREAM');
    expect(err.step).toBe('split');
  });
});
