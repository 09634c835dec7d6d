import { describe, expect, test } from 'vitest';
import { Batch, Choice, createGraph, type Event, Filter, FlatMap, Graph, MapStep, Step } from '../../src/index.js';
import { quietServer, throwsSg, useServers } from '../support/core.js';

const inc = (b: number) => b + 1;
const map = (name: string, handler: (b: never) => unknown = (b) => b) => new MapStep({ name, handler });

/** A step that appends its name to `body.trail` (an array), so a reply shows the path taken. */
const mark = (name: string) =>
  new MapStep({ name, handler: (b: { trail: string[] }) => ({ trail: [...b.trail, name] }) });

const serve = useServers();

describe('createGraph', () => {
  test('defaults and options', () => {
    const g = createGraph();
    expect(g).toBeInstanceOf(Graph);
    expect(g.name).toBe('default');
    expect(g.baseDir).toBe(process.cwd());
    expect(g.steps.size).toBe(0);
    expect(g.responder).toBeUndefined();
    const named = createGraph({ name: 'support', baseDir: '/tmp' });
    expect(named.name).toBe('support');
    expect(named.baseDir).toBe('/tmp');
  });

  test('graph names follow the step-name rules; unknown options are refused', () => {
    for (const name of ['', 'a b', 'a/b', 'x'.repeat(129), 5]) {
      throwsSg(() => createGraph({ name: name as string }), 'SG_ERR_INVALID_OPTION');
    }
    expect(createGraph({ name: 'x'.repeat(128) }).name).toHaveLength(128);
    throwsSg(() => createGraph({ nmae: 'x' } as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => createGraph({ baseDir: 3 } as never), 'SG_ERR_INVALID_OPTION');
  });
});

describe('graph.to and step.to', () => {
  test('to() returns its argument, so calls chain; steps are kept in insertion order', async () => {
    const g = createGraph();
    const a = map('a', inc);
    expect(g.to(a)).toBe(a);
    const c = a.to(map('b', inc)).to(map('c', inc));
    expect(c.respond()).toBe(c);
    expect([...g.steps.keys()]).toEqual(['a', 'b', 'c']);
    expect(g.responder).toBe(c);
    expect(await serve(g).test('/', 1)).toBe(4);
  });

  test('graph.to twice makes two start steps that both receive every event', async () => {
    const g = createGraph();
    const seen: string[] = [];
    g.to(new MapStep({ name: 'one', handler: (b) => seen.push(`one:${b}`) }));
    g.to(new MapStep({ name: 'two', handler: (b) => seen.push(`two:${b}`) }));
    const reply = await serve(g).test('/', 7, { id: 'ev-1' });
    expect(reply).toEqual({ id: 'ev-1' });
    expect(seen).toEqual(['one:7', 'two:7']);
  });

  test('graph.to on a step already in the graph throws SG_ERR_DUPLICATE_STEP', () => {
    const g = createGraph();
    const a = g.to(map('a'));
    const b = a.to(map('b'));
    expect(throwsSg(() => g.to(a), 'SG_ERR_DUPLICATE_STEP').step).toBe('a');
    throwsSg(() => g.to(b), 'SG_ERR_DUPLICATE_STEP');
  });

  test('a taken name, or an instance of another graph, throws SG_ERR_DUPLICATE_STEP', () => {
    const g = createGraph();
    const a = g.to(map('a'));
    throwsSg(() => g.to(map('a')), 'SG_ERR_DUPLICATE_STEP');
    throwsSg(() => a.to(map('a')), 'SG_ERR_DUPLICATE_STEP');
    throwsSg(() => g.add(map('a')), 'SG_ERR_DUPLICATE_STEP');
    const other = createGraph({ name: 'other' });
    const x = other.to(map('x'));
    throwsSg(() => g.to(x), 'SG_ERR_DUPLICATE_STEP');
    throwsSg(() => a.to(x), 'SG_ERR_DUPLICATE_STEP');
    throwsSg(() => g.add(x), 'SG_ERR_DUPLICATE_STEP');
    // nothing was half-added
    expect([...g.steps.keys()]).toEqual(['a']);
    expect([...other.steps.keys()]).toEqual(['x']);
  });

  test('step.to on a step not in a graph throws SG_ERR_STEP_NOT_IN_GRAPH', () => {
    const loose = map('loose');
    expect(throwsSg(() => loose.to(map('next')), 'SG_ERR_STEP_NOT_IN_GRAPH').step).toBe('loose');
    throwsSg(() => loose.errorHandler(map('h')), 'SG_ERR_STEP_NOT_IN_GRAPH');
  });

  test('step.to with a step already in the graph only adds the edge (a merge)', async () => {
    const g = createGraph();
    const a = g.to(mark('a'));
    const b = a.to(mark('b'));
    const c = a.to(mark('c'));
    const m = b.to(mark('m'));
    expect(c.to(m)).toBe(m);
    expect(g.steps.size).toBe(4);
    const calls: string[][] = [];
    m.to(new MapStep({ name: 'log', handler: (x: { trail: string[] }) => calls.push(x.trail) }));
    await serve(g).test('/', { trail: [] });
    expect(calls).toEqual([
      ['a', 'b', 'm'],
      ['a', 'c', 'm'],
    ]);
    // adding the same edge again changes nothing
    const g2 = createGraph();
    const x = g2.to(map('x'));
    const y = x.to(map('y'));
    x.to(y);
    expect(g2._downstream('x')).toEqual(['y']);
  });

  test('step names: default is the class name, and the name rules', () => {
    expect(new MapStep({ handler: inc }).name).toBe('MapStep');
    expect(new Filter({ handler: () => true }).name).toBe('Filter');
    expect(new FlatMap({ handler: () => [] }).name).toBe('FlatMap');
    expect(new Choice({ handler: () => [] }).name).toBe('Choice');
    expect(new Batch({ maxEvents: 1 }).name).toBe('Batch');
    class Enrich extends Step {
      override do(b: unknown) {
        return b;
      }
    }
    expect(new Enrich({}).name).toBe('Enrich');
    expect(new Enrich().name).toBe('Enrich');
    for (const name of ['', ' ', 'a b', 'a\tb', 'a\nb', 'a/b', '/', 'x'.repeat(129), 'a\u00a0b', 3, null]) {
      const err = throwsSg(() => new MapStep({ name: name as string, handler: inc }), 'SG_ERR_INVALID_OPTION');
      expect(err.details.field).toBe('name');
    }
    for (const name of ['x'.repeat(128), 'a.b', 'a-b_c:1', 'é', '$x']) {
      expect(new MapStep({ name, handler: inc }).name).toBe(name);
    }
  });

  test('respond() on a step outside a graph marks it; the mark travels with it', () => {
    const g = createGraph();
    const r = new MapStep({ name: 'r', handler: inc }).respond();
    g.to(r);
    expect(g.responder).toBe(r);
  });
});

describe('graph.add', () => {
  test('the example of graph.md: before and after place steps', async () => {
    const g = createGraph();
    g.add(mark('s2'));
    g.add(mark('s1'), { before: 's2' });
    g.add(mark('s3'), { after: 's2' }).respond();
    expect(await serve(g).test('/', { trail: [] })).toEqual({ trail: ['s1', 's2', 's3'] });
  });

  test('after: absent or [] makes a start step; a name, a Step, an array, $prev', async () => {
    const g = createGraph();
    const a = g.add(mark('a'));
    g.add(mark('b'), { after: [] });
    g.add(mark('c'), { after: a });
    g.add(mark('d'), { after: '$prev' }); // after c
    g.add(mark('e'), { after: ['b', 'd'] });
    const out: string[][] = [];
    g.add(new MapStep({ name: 'sink', handler: (x: { trail: string[] }) => out.push(x.trail) }), { after: '$prev' });
    expect(g._downstream('c')).toEqual(['d']);
    expect(g._upstream('e')).toEqual(['b', 'd']);
    await serve(g).test('/', { trail: [] });
    // start steps in insertion order; synchronous steps run depth first
    expect(out).toEqual([
      ['a', 'c', 'd', 'e'],
      ['b', 'e'],
    ]);
  });

  test('$prev names the step added last by any means; with nothing added it is unknown', () => {
    const g = createGraph();
    throwsSg(() => g.add(map('x'), { after: '$prev' }), 'SG_ERR_UNKNOWN_STEP');
    const a = g.to(map('a'));
    a.to(map('b'));
    g.add(map('c'), { after: '$prev' });
    expect(g._upstream('c')).toEqual(['b']);
  });

  test('before: the new step inherits all upstream steps of before, which then follows only it', () => {
    const g = createGraph();
    const a = g.to(map('a'));
    const b = g.to(map('b'));
    const t = a.to(map('t'));
    b.to(t);
    const z = g.to(map('z'));
    g.add(map('n'), { after: z, before: t });
    expect(g._upstream('n')).toEqual(['a', 'b', 'z']);
    expect(g._upstream('t')).toEqual(['n']);
    // the new step keeps the place of `t` in each upstream step's edge order
    const g2 = createGraph();
    const s = g2.to(map('s'));
    s.to(map('x'));
    s.to(map('y'));
    g2.add(map('w'), { before: 'x' });
    expect(g2._downstream('s')).toEqual(['w', 'y']);
  });

  test('unknown names throw SG_ERR_UNKNOWN_STEP and add nothing', () => {
    const g = createGraph();
    g.to(map('a'));
    const e1 = throwsSg(() => g.add(map('n'), { after: 'nope' }), 'SG_ERR_UNKNOWN_STEP');
    expect(e1.message).toContain('nope');
    throwsSg(() => g.add(map('n'), { after: ['a', 'nope'] }), 'SG_ERR_UNKNOWN_STEP');
    throwsSg(() => g.add(map('n'), { before: 'nope' }), 'SG_ERR_UNKNOWN_STEP');
    throwsSg(() => g.add(map('n'), { after: map('loose') }), 'SG_ERR_UNKNOWN_STEP');
    const other = createGraph().to(map('o'));
    throwsSg(() => g.add(map('n'), { before: other }), 'SG_ERR_UNKNOWN_STEP');
    expect([...g.steps.keys()]).toEqual(['a']);
    expect(g._edges).toEqual([]);
  });

  test('before equal to the new step, to one of after, or upstream of after throws SG_ERR_GRAPH_CYCLE', () => {
    const g = createGraph();
    const a = g.to(map('a'));
    a.to(map('b'));
    throwsSg(() => g.add(map('a2'), { after: 'a', before: 'a' }), 'SG_ERR_GRAPH_CYCLE');
    throwsSg(() => g.add(map('n'), { before: 'n' }), 'SG_ERR_UNKNOWN_STEP'); // n is not in the graph yet
    throwsSg(() => g.add(map('n'), { after: 'b', before: 'a' }), 'SG_ERR_GRAPH_CYCLE');
    expect([...g.steps.keys()]).toEqual(['a', 'b']);
  });

  test('step.to that would close a loop throws SG_ERR_GRAPH_CYCLE', () => {
    const g = createGraph();
    const a = g.to(map('a'));
    const b = a.to(map('b'));
    const c = b.to(map('c'));
    expect(throwsSg(() => c.to(a), 'SG_ERR_GRAPH_CYCLE').message).toContain("'c' -> 'a'");
    throwsSg(() => a.to(a), 'SG_ERR_GRAPH_CYCLE');
    throwsSg(() => b.to(a), 'SG_ERR_GRAPH_CYCLE');
    expect(() => g.validate()).not.toThrow();
  });
});

describe('edge order decides which branch gets the original event', () => {
  test('to() order, add() order and merges', async () => {
    const got = new Map<string, Event>();
    let original: Event | undefined;
    const g = createGraph();
    const src = g.to(
      new MapStep({
        name: 'src',
        fullEvent: true,
        handler: (ev: Event) => {
          original = ev;
          return ev;
        },
      }),
    );
    const rec = (name: string) =>
      new MapStep({
        name,
        fullEvent: true,
        handler: (ev: Event) => {
          got.set(name, ev);
          return ev;
        },
      });
    src.to(rec('first'));
    g.add(rec('second'), { after: 'src' });
    src.to(rec('third'));
    await serve(g).test('/', { v: 1 });
    expect(got.get('first')).toBe(original);
    expect(got.get('second')).not.toBe(original);
    expect(got.get('third')).not.toBe(original);
    expect(got.get('second')?.body).toEqual({ v: 1 });
    expect(got.get('second')?.id).toBe(original?.id);
  });
});

describe('graph in use', () => {
  test('every change and a second server throw SG_ERR_GRAPH_IN_USE while a server is open', async () => {
    const g = createGraph();
    const a = g.to(map('a'));
    const b = a.to(map('b'));
    const server = quietServer(g);
    await server.ready();
    throwsSg(() => g.to(map('x')), 'SG_ERR_GRAPH_IN_USE');
    throwsSg(() => g.add(map('x')), 'SG_ERR_GRAPH_IN_USE');
    throwsSg(() => a.to(map('x')), 'SG_ERR_GRAPH_IN_USE');
    throwsSg(() => a.to(b), 'SG_ERR_GRAPH_IN_USE');
    throwsSg(() => b.respond(), 'SG_ERR_GRAPH_IN_USE');
    throwsSg(() => a.errorHandler(map('h')), 'SG_ERR_GRAPH_IN_USE');
    throwsSg(() => g.errorHandler(map('h')), 'SG_ERR_GRAPH_IN_USE');
    throwsSg(() => g.setStreaming(false), 'SG_ERR_GRAPH_IN_USE');
    throwsSg(() => g.setTracking({ enabled: false }), 'SG_ERR_GRAPH_IN_USE');
    throwsSg(() => quietServer(g), 'SG_ERR_GRAPH_IN_USE');
    expect([...g.steps.keys()]).toEqual(['a', 'b']);
    expect(g.responder).toBeUndefined();
    // the open server still works
    expect(await server.test('/', 1)).toMatchObject({ id: expect.any(String) });
    await server.close();
    // after close the graph may be changed and served again
    b.to(map('c', inc)).respond();
    const again = serve(g);
    expect(await again.test('/', 1)).toBe(2);
  });

  test('the graph is in use from createMockServer on, even before ready', async () => {
    const g = createGraph();
    g.to(map('a')).respond();
    const server = quietServer(g);
    throwsSg(() => g.to(map('x')), 'SG_ERR_GRAPH_IN_USE');
    await server.close();
    expect(() => g.to(map('x'))).not.toThrow();
  });
});

describe('method arguments', () => {
  test('to/add/errorHandler with something that is not a step throw SG_ERR_INVALID_OPTION', () => {
    const g = createGraph();
    const a = g.to(map('a'));
    for (const bad of [undefined, null, {}, 'a', () => 1]) {
      throwsSg(() => g.to(bad as never), 'SG_ERR_INVALID_OPTION');
      throwsSg(() => g.add(bad as never), 'SG_ERR_INVALID_OPTION');
      throwsSg(() => a.to(bad as never), 'SG_ERR_INVALID_OPTION');
      throwsSg(() => a.errorHandler(bad as never), 'SG_ERR_INVALID_OPTION');
      throwsSg(() => g.errorHandler(bad as never), 'SG_ERR_INVALID_OPTION');
    }
    expect([...g.steps.keys()]).toEqual(['a']);
  });

  test('add() and errorHandler() options: unknown fields and wrong types throw SG_ERR_INVALID_OPTION', () => {
    const g = createGraph();
    const a = g.to(map('a'));
    const bad: unknown[] = [
      null,
      'a',
      { afterr: 'a' },
      { after: 5 },
      { after: ['a', 5] },
      { after: [['a']] },
      { before: ['a'] },
      { before: 5 },
    ];
    for (const options of bad) {
      throwsSg(() => g.add(map('n'), options as never), 'SG_ERR_INVALID_OPTION');
    }
    for (const options of [null, { bfore: 'x' }, { before: 5 }, { before: [5] }]) {
      throwsSg(() => a.errorHandler(map('h'), options as never), 'SG_ERR_INVALID_OPTION');
    }
    throwsSg(() => g.errorHandler(map('h'), { other: 1 } as never), 'SG_ERR_INVALID_OPTION');
    expect([...g.steps.keys()]).toEqual(['a']);
    // an empty options object, or undefined fields, are fine
    expect(() => g.add(map('n1'), {})).not.toThrow();
    expect(() => g.add(map('n2'), { after: undefined, before: undefined })).not.toThrow();
    expect(() => a.errorHandler(map('h1'), {})).not.toThrow();
  });
});
