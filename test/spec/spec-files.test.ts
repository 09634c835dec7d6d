import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import {
  Batch,
  createGraph,
  createMockServer,
  Graph,
  MapStep,
  type MockServer,
  registerClass,
  SgError,
} from '../../src/index.js';
import { saveGraphFile } from '../../src/spec/index.js';

const fixtures = fileURLToPath(new URL('../fixtures/spec/', import.meta.url));
const servers: MockServer[] = [];
const serve = (g: Graph) => {
  const s = createMockServer(g, { logLevel: 'silent' });
  servers.push(s);
  return s;
};
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function specError(fn: () => unknown): SgError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SgError);
    return err as SgError;
  }
  throw new Error('expected an SgError');
}

const tmp = () => mkdtempSync(join(tmpdir(), 'sg-spec-'));

describe('loading spec files', () => {
  test('a YAML file builds a graph that runs: built-ins, module references, porting names, paths, params', async () => {
    const g = Graph.fromFile(join(fixtures, 'chain.yaml'));
    expect(g.name).toBe('chain');
    expect(g.streaming).toBe(false);
    expect([...g.steps.keys()]).toEqual(['double', 'suffix', 'even', 'reply', 'last-resort']);
    const s = serve(g);
    expect(await s.test('/', { x: 3, label: 'a' })).toEqual({ x: 3, y: 6, label: 'a?', n: 1 });
  });

  test('the graph-level onError handler answers a failure', async () => {
    const g = Graph.fromFile(join(fixtures, 'chain.yaml'));
    const s = serve(g);
    // a label that is not a string still works; an x that is not a number makes y NaN: filtered out
    expect(await s.test('/', { x: 'a', label: 'b' })).toBeUndefined();
    // a body that is not an object fails inputPath with SG_ERR_PATH_TARGET: the handler answers
    expect(await s.test('/', 5)).toEqual({ failed: 'double', code: 'SG_ERR_PATH_TARGET' });
  });

  test('JSON files load too, and the name defaults to the base name', () => {
    const dir = tmp();
    const file = join(dir, 'mine.json');
    writeFileSync(
      file,
      JSON.stringify({
        steps: { a: { class: 'MapStep', handler: `${join(fixtures, 'handlers.mjs')}#double`, responder: true } },
      }),
    );
    const g = Graph.fromFile(file);
    expect(g.name).toBe('mine');
    expect(g.responder?.name).toBe('a');
  });

  test('a step handler error handler with before continues to the named step', async () => {
    const g = Graph.fromSpec(
      {
        steps: {
          pre: { class: 'MapStep', handler: './handlers.mjs#boom', onError: 'fix' },
          answer: { class: 'MapStep', handler: './handlers.mjs#inc', after: ['pre', 'fix'], responder: true },
          fix: { class: 'MapStep', handler: './handlers.mjs#describeError', fullEvent: true },
        },
      },
      { baseDir: fixtures },
    );
    const s = serve(g);
    expect(await s.test('/', {})).toEqual({ failed: 'pre', code: 'SG_ERR_STEP_FAILED', n: 1 });
  });

  test.each([
    ['malformed YAML', 'steps: [a, b', ''],
    ['a duplicated step', 'steps:\n  a: { class: MapStep, handler: x#y }\n  a: { class: MapStep, handler: x#y }\n', ''],
  ])('%s is SG_ERR_INVALID_SPEC', (_what, text, path) => {
    const dir = tmp();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, text);
    const err = specError(() => Graph.fromFile(file));
    expect(err.code).toBe('SG_ERR_INVALID_SPEC');
    expect(err.details.path).toBe(path);
  });

  test('malformed JSON is SG_ERR_INVALID_SPEC', () => {
    const dir = tmp();
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"steps": {');
    expect(specError(() => Graph.fromFile(file)).code).toBe('SG_ERR_INVALID_SPEC');
  });

  test('a missing file and a wrong extension are SG_ERR_INVALID_SPEC', () => {
    expect(specError(() => Graph.fromFile('/nonexistent/graph.yaml')).code).toBe('SG_ERR_INVALID_SPEC');
    expect(specError(() => Graph.fromFile('graph.txt')).code).toBe('SG_ERR_INVALID_SPEC');
  });

  test.each([
    [{ kind: 'router', steps: {} }, 'kind'],
    [{ engine: 'sync', steps: {} }, 'engine'],
    [{}, 'steps'],
    [{ steps: {}, color: 'red' }, ''],
    [{ steps: { a: { class: 'MapStep', handler: 'x#y', colour: 1 } } }, 'steps.a'],
    [{ steps: { a: { class: 'MapStep', handler: 'x#y', after: 3 } } }, 'steps.a.after'],
    [{ steps: { a: { class: 'MapStep', handler: 'x#y', params: { name: 'b' } } } }, 'steps.a.params'],
    [{ steps: { a: { handler: 'x#y' } } }, 'steps.a.class'],
    [{ steps: { a: { class: 'MapStep', handler: 'x#y', fullEvent: 'yes' } } }, 'steps.a.fullEvent'],
    [{ steps: { a: { class: 'Batch', params: { maxEvents: 0 } } } }, 'steps.a.params.maxEvents'],
    [{ steps: { a: { class: 'MapStep', handler: 'x#y', inputPath: 'a..b' } } }, 'steps.a.inputPath'],
    [{ streaming: { maxBufferedChunks: 0 }, steps: {} }, 'streaming.maxBufferedChunks'],
    [{ tracking: { ioSampleRate: 2 }, steps: {} }, 'tracking.ioSampleRate'],
    [{ steps: { a: { kind: 'model_runner', class: 'MapStep' } } }, 'steps.a.class'],
    [{ steps: { a: { class: 'MapStep', handler: 'x#y', raiseException: false } } }, 'steps.a.raiseException'],
    [
      { steps: { a: { kind: 'model_runner', models: { m: { modelClass: 'X', executionMechanism: 'gpu' } } } } },
      'steps.a.models.m.executionMechanism',
    ],
    [{ sharedModels: { s: { modelClass: 'X' } }, steps: {} }, 'sharedModels.s.executionMechanism'],
    [{ sharedPool: { maxThreads: 0 }, steps: {} }, 'sharedPool.maxThreads'],
  ])('wrong field %j is SG_ERR_INVALID_SPEC at %s', (spec, path) => {
    const err = specError(() => Graph.fromSpec(spec));
    expect(err.code).toBe('SG_ERR_INVALID_SPEC');
    expect(err.details.path).toBe(path);
  });

  test('a built graph is validated: unknown after, cycles, several responders', () => {
    expect(
      specError(() => Graph.fromSpec({ steps: { a: { class: 'MapStep', handler: 'x#y', after: 'nope' } } })).code,
    ).toBe('SG_ERR_UNKNOWN_STEP');
    expect(
      specError(() =>
        Graph.fromSpec({
          steps: {
            a: { class: 'MapStep', handler: 'x#y', after: 'b' },
            b: { class: 'MapStep', handler: 'x#y', after: 'a' },
          },
        }),
      ).code,
    ).toBe('SG_ERR_GRAPH_CYCLE');
    expect(specError(() => Graph.fromSpec({ steps: {} })).code).toBe('SG_ERR_EMPTY_GRAPH');
    expect(
      specError(() => Graph.fromSpec({ onError: 'h', steps: { a: { class: 'MapStep', handler: 'x#y' } } })).code,
    ).toBe('SG_ERR_UNKNOWN_STEP');
    expect(
      specError(() =>
        Graph.fromSpec({
          steps: {
            a: { class: 'MapStep', handler: 'x#y', onError: 'h' },
            h: { class: 'MapStep', handler: 'x#y', after: 'a' },
          },
        }),
      ).code,
    ).toBe('SG_ERR_INVALID_ERROR_HANDLER');
  });

  test('references fail at start-up: unknown name, missing module, missing export, not a function, not a Step', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ class: 'MapStep', handler: 'NoSuchName' }, 'SG_ERR_UNKNOWN_CLASS'],
      [{ class: 'MapStep', handler: './missing.mjs#f' }, 'SG_ERR_MODULE_LOAD'],
      [{ class: 'MapStep', handler: './handlers.mjs#nope' }, 'SG_ERR_UNKNOWN_CLASS'],
      [{ class: 'MapStep', handler: './handlers.mjs#notAFunction' }, 'SG_ERR_INVALID_CLASS'],
      [{ class: './steps.mjs#NotAStep' }, 'SG_ERR_INVALID_CLASS'],
      [{ class: 'NoSuchStep' }, 'SG_ERR_UNKNOWN_CLASS'],
    ];
    for (const [step, code] of cases) {
      const g = Graph.fromSpec({ steps: { a: { ...step, responder: true } } }, { baseDir: fixtures });
      const s = serve(g);
      await expect(s.ready()).rejects.toMatchObject({ code, step: 'a' });
      await expect(s.test('/', 1)).rejects.toMatchObject({ code });
    }
  });
});

describe('saving spec files', () => {
  test('a graph saved as YAML and JSON and loaded again runs the same', async () => {
    const original = Graph.fromFile(join(fixtures, 'chain.yaml'));
    const dir = tmp();
    for (const name of ['copy.yaml', 'copy.json']) {
      const file = join(dir, name);
      const spec = original.toSpec();
      // references in the saved file resolve against its own folder: point them at the fixtures
      const text = JSON.stringify(spec)
        .replaceAll('./handlers.mjs', join(fixtures, 'handlers.mjs'))
        .replaceAll('./steps.mjs', join(fixtures, 'steps.mjs'));
      saveGraphFile(Graph.fromSpec(JSON.parse(text), { baseDir: fixtures }), file);
      const loaded = Graph.fromFile(file);
      expect(loaded.toSpec()).toEqual({ ...JSON.parse(text), name: 'chain' });
      const s = serve(loaded);
      expect(await s.test('/', { x: 3, label: 'a' })).toEqual({ x: 3, y: 6, label: 'a?', n: 1 });
      expect(await s.test('/', 5)).toEqual({ failed: 'double', code: 'SG_ERR_PATH_TARGET' });
      if (name.endsWith('.yaml')) expect(readFileSync(file, 'utf8')).toContain('kind: flow');
    }
  });

  test('toSpec writes registered in-memory classes and functions by name, and arrays for dotted keys', () => {
    const triple = (x: number) => x * 3;
    registerClass('spec-test-triple', triple);
    const g = createGraph({ name: 'mem' });
    g.to(new MapStep({ name: 'a', handler: triple, inputPath: ['a.b', 'c'] }))
      .to(new Batch({ name: 'b', maxEvents: 2, key: '$path' }))
      .respond();
    expect(g.toSpec()).toEqual({
      kind: 'flow',
      name: 'mem',
      engine: 'async',
      streaming: true,
      steps: {
        a: { class: 'MapStep', handler: 'spec-test-triple', inputPath: ['a.b', 'c'] },
        b: { class: 'Batch', params: { maxEvents: 2, key: '$path' }, after: ['a'], responder: true },
      },
    });
  });

  test('unregistered functions, collect and key functions are SG_ERR_NOT_SERIALIZABLE naming the step', () => {
    const g1 = createGraph();
    g1.to(new MapStep({ name: 'anon', handler: (x: unknown) => x }));
    expect(specError(() => g1.toSpec())).toMatchObject({ code: 'SG_ERR_NOT_SERIALIZABLE', step: 'anon' });
    const g2 = createGraph();
    g2.to(new MapStep({ name: 'c', handler: 'x#y', collect: (chunks: unknown[]) => chunks }));
    expect(specError(() => g2.toSpec())).toMatchObject({ code: 'SG_ERR_NOT_SERIALIZABLE', step: 'c' });
    const g3 = createGraph();
    g3.to(new Batch({ name: 'k', maxEvents: 2, key: (e) => e.path }));
    expect(specError(() => g3.toSpec())).toMatchObject({ code: 'SG_ERR_NOT_SERIALIZABLE', step: 'k' });
  });
});

describe('Mermaid drawing', () => {
  test('a flowchart LR with a start node, step nodes, edges, error edges and a double-bordered responder', () => {
    const g = Graph.fromFile(join(fixtures, 'chain.yaml'));
    const text = g.toMermaid();
    expect(text.startsWith('flowchart LR\n')).toBe(true);
    expect(text).toContain('start(((start)))');
    expect(text).toContain('start --> s0');
    expect(text).toContain('s0 --> s1');
    expect(text).toMatch(/s3\[\["reply/);
    expect(text).toContain('-. error .-> s4');
    expect(text).not.toContain('s4 --> ');
  });

  test('labels are escaped', () => {
    const g = createGraph();
    g.to(new MapStep({ name: 'a"b<c>', handler: (x: unknown) => x }));
    expect(g.toMermaid()).toContain('a#quot;b#lt;c#gt;');
  });
});
