import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  type AddModelOptions,
  createGraph,
  Graph,
  Model,
  ModelArtifact,
  ModelRunnerStep,
  registerClass,
} from '../../src/index.js';
import { base, Echo, Plus } from './add-model-fixtures.js';
import { FIXTURE_FILE, ref, runnerGraph, serve, throwsSg } from './helpers.js';

describe('addModel: errors', () => {
  test('a missing or unknown executionMechanism is SG_ERR_INVALID_MECHANISM listing the valid ones', () => {
    const r = new ModelRunnerStep({ name: 'runner' });
    for (const mech of [undefined, 'bogus', 'Naive', 3]) {
      const err = throwsSg(() => r.addModel(base({ executionMechanism: mech as never })), 'SG_ERR_INVALID_MECHANISM');
      expect(err).toMatchObject({ step: 'runner', endpoint: 'm' });
      for (const m of ['naive', 'asyncio', 'thread_pool', 'process_pool', 'dedicated_process'])
        expect(err.message).toContain(m);
    }
    const shared = throwsSg(
      () => r.addModel(base({ executionMechanism: 'shared_executor' as never })),
      'SG_ERR_INVALID_OPTION',
    );
    expect(shared.message).toContain('addSharedModelProxy()');
    expect(r.endpointNames).toEqual([]);
  });

  test('a duplicate endpoint in the step needs override; override keeps the position', async () => {
    const r = new ModelRunnerStep({ name: 'runner' });
    r.addModel(base({ endpointName: 'a', modelClass: Plus, modelParameters: { n: 1 } }))
      .addModel(base({ endpointName: 'b', modelClass: Plus, modelParameters: { n: 2 } }))
      .addModel(base({ endpointName: 'c', modelClass: Plus, modelParameters: { n: 3 } }));
    const err = throwsSg(() => r.addModel(base({ endpointName: 'a', modelClass: Plus })), 'SG_ERR_DUPLICATE_ENDPOINT');
    expect(err).toMatchObject({ step: 'runner', endpoint: 'a' });
    r.addModel(base({ endpointName: 'a', modelClass: Plus, modelParameters: { n: 10 }, override: true }));
    expect(r.endpointNames).toEqual(['a', 'b', 'c']);
    const g = createGraph();
    g.to(r).respond();
    const out = await serve(g).test('/', 1);
    expect(out).toEqual({ a: 11, b: 3, c: 4 });
    expect(Object.keys(out as object)).toEqual(['a', 'b', 'c']);
  });

  test('an endpoint name used by another step of the graph is SG_ERR_DUPLICATE_ENDPOINT, even with override', () => {
    const g = createGraph();
    const r1 = new ModelRunnerStep({ name: 'r1' }).addModel(base({ endpointName: 'shared-name' }));
    const r2 = new ModelRunnerStep({ name: 'r2' });
    g.to(r1).to(r2).respond();
    for (const override of [false, true]) {
      const err = throwsSg(
        () => r2.addModel(base({ endpointName: 'shared-name', override })),
        'SG_ERR_DUPLICATE_ENDPOINT',
      );
      expect(err.message).toContain('r1');
      expect(err.message).toContain('r2');
    }
    throwsSg(
      () => r2.addSharedModelProxy({ endpointName: 'shared-name', sharedModelName: 'x' }),
      'SG_ERR_DUPLICATE_ENDPOINT',
    );
  });

  // Fails until Graph.attach() calls step._checkAttach() (src/graph/graph.ts; reported): remove `.fails` then.
  test('adding a step whose endpoint name the graph already uses is refused at once', () => {
    const g = createGraph();
    g.to(new ModelRunnerStep({ name: 'r1' }).addModel(base({ endpointName: 'dup' })));
    const r2 = new ModelRunnerStep({ name: 'r2' }).addModel(base({ endpointName: 'dup' }));
    throwsSg(() => g.to(r2), 'SG_ERR_DUPLICATE_ENDPOINT');
  });

  test('validate() and spec files refuse an endpoint name used by two steps, naming both in graph order', () => {
    const g = createGraph();
    g.to(new ModelRunnerStep({ name: 'r1' }).addModel(base({ endpointName: 'dup' })));
    const r2 = new ModelRunnerStep({ name: 'r2' }).addModel(base({ endpointName: 'dup' }));
    const err = throwsSg(() => {
      g.to(r2);
      g.validate();
    }, 'SG_ERR_DUPLICATE_ENDPOINT');
    expect(err).toMatchObject({ step: 'r2', endpoint: 'dup', details: { steps: ['r1', 'r2'] } });
    expect(err.message).toContain('r1');
    expect(err.message).toContain('r2');
    const spec = {
      steps: {
        r1: { kind: 'model_runner', models: { dup: { modelClass: ref('AddN'), executionMechanism: 'naive' } } },
        r2: {
          kind: 'model_runner',
          after: 'r1',
          models: { dup: { modelClass: ref('AddN'), executionMechanism: 'naive' } },
        },
      },
    };
    const fromSpec = throwsSg(() => Graph.fromSpec(spec), 'SG_ERR_DUPLICATE_ENDPOINT');
    expect(fromSpec.details.steps).toEqual(['r1', 'r2']);
  });

  test('instance rules: no modelParameters, same name, one artifact', async () => {
    const a = new ModelArtifact({ key: 'inst-art' });
    const r = new ModelRunnerStep({ name: 'runner' });
    throwsSg(
      () => r.addModel(base({ modelClass: new Echo({ name: 'm' }), modelParameters: {} })),
      'SG_ERR_INVALID_OPTION',
    );
    throwsSg(() => r.addModel(base({ modelClass: new Echo({ name: 'other' }) })), 'SG_ERR_INVALID_OPTION');
    throwsSg(
      () => r.addModel(base({ modelClass: new Echo({ name: 'm', modelArtifact: a }), modelArtifact: a })),
      'SG_ERR_INVALID_OPTION',
    );
    r.addModel(base({ modelClass: new Echo({ name: 'm', modelArtifact: a }) }));
    r.addModel(
      base({ endpointName: 'n', modelClass: new Echo({ name: 'n' }), modelArtifact: a, executionMechanism: 'asyncio' }),
    );
    const g = createGraph();
    g.to(r).respond();
    expect(await serve(g).test('/', 1)).toEqual({
      m: { input: 1, endpoint: 'm', artifact: 'inst-art' },
      n: { input: 1, endpoint: 'n', artifact: 'inst-art' },
    });
  });

  test('a class or instance with a worker mechanism is SG_ERR_NOT_WORKER_LOADABLE; a class registered with module is allowed', async () => {
    const r = new ModelRunnerStep({ name: 'runner' });
    for (const mech of ['thread_pool', 'process_pool', 'dedicated_process'] as const) {
      const e1 = throwsSg(
        () => r.addModel(base({ modelClass: Echo, executionMechanism: mech })),
        'SG_ERR_NOT_WORKER_LOADABLE',
      );
      expect(e1).toMatchObject({ step: 'runner', endpoint: 'm' });
      expect(e1.message).toContain(mech);
      throwsSg(
        () => r.addModel(base({ modelClass: new Echo({ name: 'm' }), executionMechanism: mech })),
        'SG_ERR_NOT_WORKER_LOADABLE',
      );
    }
    registerClass('InMemoryPlus', Plus);
    throwsSg(
      () => r.addModel(base({ modelClass: Plus, executionMechanism: 'thread_pool' })),
      'SG_ERR_NOT_WORKER_LOADABLE',
    );
    // a name registered in memory only passes addModel, and fails validation
    const g1 = runnerGraph((x) =>
      x.addModel(base({ modelClass: 'InMemoryPlus', executionMechanism: 'thread_pool' })),
    ).graph;
    const e2 = throwsSg(() => g1.validate(), 'SG_ERR_NOT_WORKER_LOADABLE');
    expect(e2).toMatchObject({ step: 'runner', endpoint: 'm' });

    const mod = (await import(FIXTURE_FILE)) as { AddN: typeof Model };
    registerClass('AddNFromModule', mod.AddN, { module: pathToFileURL(FIXTURE_FILE).href });
    registerClass('AddNByRef', ref('AddN'));
    const { graph } = runnerGraph((x) => {
      x.addModel({ endpointName: 'cls', modelClass: mod.AddN, executionMechanism: 'thread_pool' });
      x.addModel({ endpointName: 'name', modelClass: 'AddNFromModule', executionMechanism: 'process_pool' });
      x.addModel({
        endpointName: 'target',
        modelClass: 'AddNByRef',
        executionMechanism: 'thread_pool',
        modelParameters: { n: 5 },
      });
    });
    expect(await serve(graph).test('/', 1)).toEqual({ cls: 2, name: 2, target: 6 });
  });

  test('modelParameters that cannot be cloned: SG_ERR_NOT_CLONEABLE for a worker mechanism, allowed on the main thread', async () => {
    const r = new ModelRunnerStep({ name: 'runner' });
    const params = { client: () => 'hi' };
    for (const mech of ['thread_pool', 'process_pool', 'dedicated_process'] as const) {
      const err = throwsSg(
        () => r.addModel(base({ modelClass: ref('AddN'), executionMechanism: mech, modelParameters: params })),
        'SG_ERR_NOT_CLONEABLE',
      );
      expect(err).toMatchObject({ step: 'runner', endpoint: 'm' });
    }
    class UsesClient extends Model {
      override predict() {
        return (this.modelParameters.client as () => string)();
      }
    }
    const { graph } = runnerGraph((x) => x.addModel(base({ modelClass: UsesClient, modelParameters: params })));
    expect(await serve(graph).test('/', 1)).toBe('hi');
  });

  test('any other bad field is SG_ERR_INVALID_OPTION', () => {
    const r = new ModelRunnerStep({ name: 'runner' });
    const bad: Array<Record<string, unknown>> = [
      { endpointName: '' },
      { endpointName: 'has space' },
      { endpointName: 'a/b' },
      { endpointName: 'x'.repeat(129) },
      { endpointName: 5 },
      { modelClass: undefined },
      { modelClass: '' },
      { modelClass: 42 },
      { modelClass: { predict() {} } },
      { modelClass: class NotAModel {} },
      { unknownField: 1 },
      { modelArtifact: { key: 'plain' } },
      { inputPath: 'a..b' },
      { resultPath: ['__proto__'] },
      { labels: 'eu' },
      { labels: { tier: 1 } },
      { labels: [1] },
      { modelEndpointCreationStrategy: 'replace' },
      { inputs: 'a' },
      { outputs: [1] },
      { override: 'yes' },
      { modelParameters: [] },
      { modelParameters: 'x' },
      { modelParameters: null },
      { timeoutMs: -1 },
      { timeoutMs: '5' },
      { timeoutMs: Number.POSITIVE_INFINITY },
      { maxConcurrentCalls: 0 },
      { maxConcurrentCalls: 1.5 },
      { maxConcurrentCalls: '2' },
    ];
    for (const b of bad) throwsSg(() => r.addModel({ ...base(), ...b } as AddModelOptions), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => r.addModel(null as never), 'SG_ERR_INVALID_OPTION');
    expect(r.endpointNames).toEqual([]);
    r.addModel(
      base({
        labels: ['eu', 'tier=gold'],
        modelEndpointCreationStrategy: 'archive',
        inputs: ['f1'],
        outputs: ['o1'],
        override: false,
        timeoutMs: 0,
        maxConcurrentCalls: 2,
        inputPath: ['a.b', 'c'],
        resultPath: 'out',
      }),
    );
    expect(r.endpointNames).toEqual(['m']);
  });

  test('changing a runner while its graph is served is SG_ERR_GRAPH_IN_USE; a runner without endpoints is SG_ERR_NO_MODELS', async () => {
    const { graph, runner } = runnerGraph((x) => x.addModel(base()));
    const s = serve(graph);
    await s.ready();
    throwsSg(() => runner.addModel(base({ endpointName: 'late' })), 'SG_ERR_GRAPH_IN_USE');
    throwsSg(() => runner.configurePoolResource({}), 'SG_ERR_GRAPH_IN_USE');
    const empty = runnerGraph(() => {}).graph;
    const err = throwsSg(() => empty.validate(), 'SG_ERR_NO_MODELS');
    expect(err.step).toBe('runner');
    throwsSg(() => serve(empty), 'SG_ERR_NO_MODELS');
  });
});
