import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { createGraph, Graph, Model, ModelRunnerStep, ModelSelector, registerClass } from '../../src/index.js';
import { FIXTURE_FILE, FIXTURES, ref, rejectsSg, serve, tempDir, throwsSg } from './helpers.js';

/** A spec with every model_runner field, root sharedModels and sharedPool; artifacts inline and in files. */
function fullSpec(artifactFile: string, promptFile: string): Record<string, unknown> {
  return {
    kind: 'flow',
    name: 'travel-graph',
    sharedPool: { maxThreads: 1, poolFactor: 1 },
    sharedModels: {
      embedder: {
        modelClass: ref('Where'),
        executionMechanism: 'thread_pool',
        modelArtifact: artifactFile,
        modelParameters: { tag: 'shared' },
      },
    },
    steps: {
      runner: {
        kind: 'model_runner',
        modelSelector: './runner-models.mjs#TopicSelector',
        modelSelectorParameters: { fallback: 'travel' },
        raiseException: false,
        pool: { maxProcesses: 1, maxQueue: 64 },
        responder: true,
        models: {
          travel: {
            modelClass: './runner-models.mjs#Where',
            executionMechanism: 'process_pool',
            modelParameters: { tag: 'eur' },
            modelArtifact: { kind: 'model', key: 'travel-model', description: 'inline' },
            inputPath: 'trip',
            resultPath: 'quote',
            labels: ['eu', 'tier=gold'],
            inputs: ['days'],
            outputs: ['price'],
            timeoutMs: 5000,
          },
          finance: {
            modelClass: ref('AddN'),
            executionMechanism: 'naive',
            inputPath: 'n',
            modelParameters: { n: 100 },
            maxConcurrentCalls: 4,
            modelEndpointCreationStrategy: 'archive',
          },
          search: {
            executionMechanism: 'shared_executor',
            sharedModelName: 'embedder',
            modelArtifact: promptFile,
            labels: { team: 'search' },
          },
          broken: { modelClass: ref('Thrower'), executionMechanism: 'dedicated_process' },
        },
      },
    },
  };
}

function artifactFiles(): { dir: string; artifactFile: string; promptFile: string } {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'embedder.json'),
    JSON.stringify({ kind: 'model', formatVersion: 1, key: 'embedder', modelFile: 'weights.bin' }),
  );
  writeFileSync(join(dir, 'search.yaml'), stringify({ kind: 'model', key: 'embedder', description: 'search prompt' }));
  return { dir, artifactFile: join(dir, 'embedder.json'), promptFile: join(dir, 'search.yaml') };
}

async function exercise(graph: Graph) {
  const s = serve(graph);
  const travel = (await s.test('/', { topic: undefined, trip: { days: 3 } }, { id: 't1' })) as Record<
    string,
    Record<string, unknown>
  >;
  const finance = await s.test('/', { topic: 'finance', n: 1 });
  const search = (await s.test('/', { topic: 'search', q: 'x' })) as Record<string, Record<string, unknown>>;
  const broken = await s.test('/', { topic: 'broken', kind: 'type' });
  const record = await s.monitoring.getEndpoint('travel');
  const searchRecord = await s.monitoring.getEndpoint('search');
  await s.close();
  return { travel, finance, search, broken, record, searchRecord };
}

describe('spec files: kind model_runner', () => {
  test('every field builds the runner, the shared models and the pools; artifacts inline and from files', async () => {
    const { dir, artifactFile, promptFile } = artifactFiles();
    const graph = Graph.fromSpec(fullSpec('./embedder.json'.replace('.', dir), promptFile), { baseDir: FIXTURES });
    const { travel, finance, search, broken, record, searchRecord } = await exercise(graph);
    expect(searchRecord).toMatchObject({
      kind: 'proxy',
      sharedModel: 'embedder',
      artifact: { kind: 'model', key: 'embedder', path: promptFile },
    });
    expect(record.artifact).toEqual({ kind: 'model', key: 'travel-model', modelUrl: null, path: null });
    expect(travel.travel.trip).toEqual({ days: 3 });
    expect(travel.travel.quote).toMatchObject({
      endpoint: 'travel',
      tag: 'eur',
      artifactKey: 'travel-model',
      mechanism: 'process_pool',
      eventId: 't1',
    });
    expect((travel.travel.quote as { pid: number }).pid).not.toBe(process.pid);
    expect(finance).toEqual({ finance: 101 });
    expect(search.search).toMatchObject({
      endpoint: 'search',
      name: 'embedder',
      tag: 'shared',
      mechanism: 'thread_pool',
      artifactKey: 'embedder',
    });
    expect(broken).toEqual({ broken: { error: 'TypeError: boom', code: 'SG_ERR_MODEL_FAILED' } });
    expect(record).toMatchObject({
      graph: 'travel-graph',
      labels: { eu: '', tier: 'gold' },
      inputs: ['days'],
      outputs: ['price'],
      artifact: { kind: 'model', key: 'travel-model' },
    });
    // the artifact file's modelFile resolves against the artifact file's folder, stored absolute
    const spec = graph.toSpec() as { sharedModels: { embedder: { modelArtifact: { modelFile: string } } } };
    expect(spec.sharedModels.embedder.modelArtifact.modelFile).toBe(join(dir, 'weights.bin'));
    expect(artifactFile).toBe(join(dir, 'embedder.json'));
  });

  test('a graph saved with toSpec() (and through YAML and JSON) and loaded again runs the same', async () => {
    const { artifactFile, promptFile } = artifactFiles();
    const first = Graph.fromSpec(fullSpec(artifactFile, promptFile), { baseDir: FIXTURES });
    const saved = first.toSpec();
    expect(saved).toMatchObject({
      sharedPool: { maxThreads: 1, poolFactor: 1 },
      steps: {
        runner: {
          kind: 'model_runner',
          modelSelector: './runner-models.mjs#TopicSelector',
          modelSelectorParameters: { fallback: 'travel' },
          raiseException: false,
          pool: { maxProcesses: 1, maxQueue: 64 },
        },
      },
    });
    const models = (saved.steps as Record<string, { models: Record<string, Record<string, unknown>> }>).runner.models;
    expect(Object.keys(models)).toEqual(['travel', 'finance', 'search', 'broken']);
    expect(models.search).toMatchObject({
      executionMechanism: 'shared_executor',
      sharedModelName: 'embedder',
      labels: { team: 'search' },
    });
    expect(models.finance).toMatchObject({
      maxConcurrentCalls: 4,
      modelEndpointCreationStrategy: 'archive',
      inputPath: 'n',
    });
    expect(models.travel).toMatchObject({ timeoutMs: 5000, resultPath: 'quote', labels: { eu: '', tier: 'gold' } });
    const expected = await exercise(first);
    const again = await exercise(Graph.fromSpec(saved, { baseDir: FIXTURES }));
    const dir = tempDir();
    const yamlFile = join(dir, 'graph.yaml');
    writeFileSync(yamlFile, stringify(saved).replaceAll('./runner-models.mjs', FIXTURE_FILE));
    const viaYaml = await exercise(Graph.fromFile(yamlFile));
    const viaJson = await exercise(Graph.fromSpec(JSON.parse(JSON.stringify(saved)), { baseDir: FIXTURES }));
    const times = { uid: 0, createdAt: 0, updatedAt: 0, firstRequestAt: 0, lastRequestAt: 0 };
    for (const other of [again, viaYaml, viaJson]) {
      expect(strip(other.travel)).toEqual(strip(expected.travel));
      expect(other.finance).toEqual(expected.finance);
      expect(strip(other.search)).toEqual(strip(expected.search));
      expect(other.broken).toEqual(expected.broken);
      // the YAML copy names the module by its absolute path: another class reference, so another definition
      const same = other === viaYaml ? { modelClass: 0, definitionHash: 0 } : {};
      expect({ ...other.record, ...times, ...same }).toEqual({ ...expected.record, ...times, ...same });
    }
  });

  test('code-built runners write their spec form; in-memory classes and selector instances cannot be written', () => {
    class Local extends Model {
      override predict() {
        return 1;
      }
    }
    class Sel extends ModelSelector {}
    registerClass('LocalModel', Local);
    registerClass('LocalSelector', Sel);
    const g = createGraph();
    const r = new ModelRunnerStep({ name: 'runner', modelSelector: Sel, modelSelectorParameters: { a: 1 } });
    r.addModel({ endpointName: 'local', modelClass: Local, executionMechanism: 'naive', inputPath: ['a.b', 'c'] });
    r.configurePoolResource({ poolFactor: 2 });
    g.to(r).respond();
    expect(g.toSpec().steps).toEqual({
      runner: {
        kind: 'model_runner',
        responder: true,
        modelSelector: 'LocalSelector',
        modelSelectorParameters: { a: 1 },
        pool: { poolFactor: 2 },
        models: { local: { modelClass: 'LocalModel', executionMechanism: 'naive', inputPath: ['a.b', 'c'] } },
      },
    });
    class Unregistered extends Model {
      override predict() {
        return 1;
      }
    }
    const cases: Array<(x: ModelRunnerStep) => void> = [
      (x) => x.addModel({ endpointName: 'u', modelClass: Unregistered, executionMechanism: 'naive' }),
      (x) => x.addModel({ endpointName: 'i', modelClass: new Local({ name: 'i' }), executionMechanism: 'naive' }),
      (x) =>
        x.addModel({
          endpointName: 'f',
          modelClass: 'LocalModel',
          executionMechanism: 'naive',
          modelParameters: { fn: () => 1 },
        }),
    ];
    for (const add of cases) {
      const graph = createGraph();
      const runner = new ModelRunnerStep({ name: 'runner' });
      add(runner);
      graph.to(runner);
      throwsSg(() => graph.toSpec(), 'SG_ERR_NOT_SERIALIZABLE');
    }
    class UnregisteredSelector extends ModelSelector {}
    const withClass = createGraph();
    withClass.to(
      new ModelRunnerStep({ name: 'runner', modelSelector: UnregisteredSelector }).addModel({
        endpointName: 'x',
        modelClass: 'LocalModel',
        executionMechanism: 'naive',
      }),
    );
    throwsSg(() => withClass.toSpec(), 'SG_ERR_NOT_SERIALIZABLE');
    const withInstance = createGraph();
    withInstance.to(
      new ModelRunnerStep({ name: 'runner', modelSelector: new Sel() }).addModel({
        endpointName: 'x',
        modelClass: 'LocalModel',
        executionMechanism: 'naive',
      }),
    );
    throwsSg(() => withInstance.toSpec(), 'SG_ERR_NOT_SERIALIZABLE');
  });
});

describe('spec files: bad fields', () => {
  const runner = (models: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
    steps: { runner: { kind: 'model_runner', models, ...more } },
  });
  const travel = (more: Record<string, unknown>) =>
    runner({ travel: { modelClass: ref('AddN'), executionMechanism: 'naive', ...more } });

  test('SG_ERR_INVALID_SPEC with details.path naming the field', () => {
    const cases: Array<[unknown, string]> = [
      [travel({ executionMechanism: 'bogus' }), 'steps.runner.models.travel.executionMechanism'],
      [travel({ executionMechanism: undefined }), 'steps.runner.models.travel.executionMechanism'],
      [travel({ modelClass: undefined }), 'steps.runner.models.travel.modelClass'],
      [travel({ modelClass: 5 }), 'steps.runner.models.travel.modelClass'],
      [travel({ colour: 'red' }), 'steps.runner.models.travel'],
      [travel({ timeoutMs: -1 }), 'steps.runner.models.travel.timeoutMs'],
      [travel({ maxConcurrentCalls: 0 }), 'steps.runner.models.travel.maxConcurrentCalls'],
      [travel({ labels: 'eu' }), 'steps.runner.models.travel.labels'],
      [travel({ modelParameters: [1] }), 'steps.runner.models.travel.modelParameters'],
      [travel({ inputPath: 'a..b' }), 'steps.runner.models.travel.inputPath'],
      [
        travel({ modelEndpointCreationStrategy: 'replace' }),
        'steps.runner.models.travel.modelEndpointCreationStrategy',
      ],
      [travel({ modelArtifact: { kind: 'model', key: '!bad' } }), 'steps.runner.models.travel.modelArtifact'],
      [runner({ p: { executionMechanism: 'shared_executor' } }), 'steps.runner.models.p.sharedModelName'],
      [
        runner({ 'bad name': { modelClass: ref('AddN'), executionMechanism: 'naive' } }),
        'steps.runner.models.bad name',
      ],
      [runner({}, { class: 'MapStep' }), 'steps.runner.class'],
      [runner({}, { params: {} }), 'steps.runner.params'],
      [runner({}, { inputPath: 'x' }), 'steps.runner.inputPath'],
      [runner({}, { pool: { maxThreads: 0 } }), 'steps.runner.pool.maxThreads'],
      [runner({}, { pool: { other: 1 } }), 'steps.runner.pool'],
      [runner({}, { raiseException: 'yes' }), 'steps.runner.raiseException'],
      [runner({}, { modelSelector: 5 }), 'steps.runner.modelSelector'],
      [runner({}, { modelSelectorParameters: [] }), 'steps.runner.modelSelectorParameters'],
      [{ steps: { m: { class: 'MapStep', handler: ref('AddN'), models: {} } } }, 'steps.m.models'],
      [{ steps: { m: { class: 'MapStep', handler: ref('AddN'), raiseException: true } } }, 'steps.m.raiseException'],
      [
        { sharedModels: { llm: { modelClass: ref('AddN'), executionMechanism: 'shared_executor' } }, steps: {} },
        'sharedModels.llm.executionMechanism',
      ],
      [
        { sharedModels: { llm: { modelClass: ref('AddN'), executionMechanism: 'naive', labels: ['x'] } }, steps: {} },
        'sharedModels.llm',
      ],
      [{ sharedPool: { poolFactor: 0 }, steps: {} }, 'sharedPool.poolFactor'],
    ];
    for (const [spec, path] of cases) {
      const err = throwsSg(() => Graph.fromSpec(spec), 'SG_ERR_INVALID_SPEC');
      expect(err.details.path, JSON.stringify(spec)).toBe(path);
    }
  });

  test('a missing artifact file is SG_ERR_ARTIFACT_NOT_FOUND; semantic errors keep their codes', async () => {
    throwsSg(
      () => Graph.fromSpec(travel({ modelArtifact: './nope.json' }), { baseDir: tempDir() }),
      'SG_ERR_ARTIFACT_NOT_FOUND',
    );
    throwsSg(() => Graph.fromSpec(runner({})), 'SG_ERR_NO_MODELS');
    throwsSg(
      () => Graph.fromSpec(runner({ p: { executionMechanism: 'shared_executor', sharedModelName: 'nope' } })),
      'SG_ERR_UNKNOWN_SHARED_MODEL',
    );
    registerClass('InMemoryOnly', class InMemoryOnly extends Model {});
    throwsSg(
      () => Graph.fromSpec(travel({ executionMechanism: 'thread_pool', modelClass: 'InMemoryOnly' })),
      'SG_ERR_NOT_WORKER_LOADABLE',
    );
    for (const executionMechanism of ['naive', 'thread_pool']) {
      const err = await rejectsSg(
        serve(Graph.fromSpec(travel({ modelClass: 'NotRegistered', executionMechanism }))).ready(),
        'SG_ERR_UNKNOWN_CLASS',
      );
      expect(err).toMatchObject({ step: 'runner', endpoint: 'travel' });
    }
  });
});

function strip(o: unknown): unknown {
  return JSON.parse(JSON.stringify(o, (k, v) => (k === 'pid' || k === 'threadId' || k === 'eventId' ? undefined : v)));
}
