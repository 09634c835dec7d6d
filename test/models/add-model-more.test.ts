import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { createGraph, ModelRunnerStep, registerClass } from '../../src/index.js';
import { base, Echo, Plus, Sel } from './add-model-fixtures.js';
import { FIXTURE_FILE, FIXTURES, lines, ref, rejectsSg, runnerGraph, serve, tempDir, throwsSg } from './helpers.js';

describe('addModel: modelClass forms and options', () => {
  test('registered name, module#Export (absolute or against baseDir), class and instance all run', async () => {
    registerClass('EchoByName', Echo);
    const { graph } = runnerGraph(
      (r) => {
        r.addModel({ endpointName: 'name', modelClass: 'EchoByName', executionMechanism: 'naive' });
        r.addModel({ endpointName: 'abs', modelClass: ref('AddN'), executionMechanism: 'asyncio' });
        r.addModel({ endpointName: 'rel', modelClass: './runner-models.mjs#AddN', executionMechanism: 'thread_pool' });
        r.addModel({
          endpointName: 'url',
          modelClass: `${pathToFileURL(FIXTURE_FILE).href}#AddN`,
          executionMechanism: 'naive',
        });
        r.addModel({ endpointName: 'cls', modelClass: Plus, executionMechanism: 'naive' });
        r.addModel({
          endpointName: 'inst',
          modelClass: new Plus({ name: 'inst', modelParameters: { n: 7 } }),
          executionMechanism: 'asyncio',
        });
      },
      {},
      { baseDir: FIXTURES },
    );
    expect(await serve(graph).test('/', 1)).toEqual({
      name: { input: 1, endpoint: 'name' },
      abs: 2,
      rel: 2,
      url: 2,
      cls: 2,
      inst: 8,
    });
  });

  test('an unknown name or export fails start-up with SG_ERR_UNKNOWN_CLASS; a non-Model class with SG_ERR_INVALID_CLASS', async () => {
    for (const [modelClass, mech, code] of [
      ['NoSuchModel', 'naive', 'SG_ERR_UNKNOWN_CLASS'],
      ['NoSuchModel', 'thread_pool', 'SG_ERR_UNKNOWN_CLASS'],
      [ref('NoSuchExport'), 'naive', 'SG_ERR_UNKNOWN_CLASS'],
      [ref('NoSuchExport'), 'process_pool', 'SG_ERR_UNKNOWN_CLASS'],
      [ref('TopicSelector'), 'naive', 'SG_ERR_INVALID_CLASS'],
      [ref('TopicSelector'), 'thread_pool', 'SG_ERR_INVALID_CLASS'],
      [join(FIXTURES, 'missing.mjs#X'), 'naive', 'SG_ERR_MODULE_LOAD'],
    ] as const) {
      const s = serve(
        runnerGraph((r) => r.addModel({ endpointName: 'm', modelClass, executionMechanism: mech })).graph,
      );
      const err = await rejectsSg(s.ready(), code);
      expect(err.step, `${modelClass} ${mech}`).toBe('runner');
    }
  });

  test('labels, inputs, outputs and the creation strategy reach the endpoint record', async () => {
    const { graph } = runnerGraph((r) =>
      r.addModel(
        base({
          labels: ['eu', 'tier=gold'],
          inputs: ['f1', 'f2'],
          outputs: ['score'],
          modelEndpointCreationStrategy: 'overwrite',
        }),
      ),
    );
    const s = serve(graph);
    await s.ready();
    expect(await s.monitoring.getEndpoint('m')).toMatchObject({
      labels: { eu: '', tier: 'gold' },
      inputs: ['f1', 'f2'],
      outputs: ['score'],
      creationStrategy: 'overwrite',
    });
  });
});

describe('ModelRunnerStep options and configurePoolResource', () => {
  test('constructor options', () => {
    expect(new ModelRunnerStep().name).toBe('ModelRunnerStep');
    expect(new ModelRunnerStep({ raiseException: false }).raiseException).toBe(false);
    expect(new ModelRunnerStep().raiseException).toBe(true);
    for (const k of ['inputPath', 'resultPath', 'fullEvent']) {
      const err = throwsSg(
        () => new ModelRunnerStep({ name: 'r', [k]: k === 'fullEvent' ? true : 'x' } as never),
        'SG_ERR_INVALID_OPTION',
      );
      expect(err.message).toContain(k);
    }
    throwsSg(
      () => new ModelRunnerStep({ modelSelector: new Sel(), modelSelectorParameters: { a: 1 } }),
      'SG_ERR_INVALID_OPTION',
    );
    throwsSg(() => new ModelRunnerStep({ modelSelector: Sel, modelRunnerSelector: Sel }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new ModelRunnerStep({ modelSelector: 42 as never }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new ModelRunnerStep({ modelSelector: '' }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new ModelRunnerStep({ modelSelectorParameters: [] as never }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new ModelRunnerStep({ raiseException: 'no' as never }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new ModelRunnerStep({ bogus: 1 } as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new ModelRunnerStep({ name: 'a b' }), 'SG_ERR_INVALID_OPTION');
    expect(new ModelRunnerStep({ modelRunnerSelector: Sel, modelSelectorParameters: { a: 1 } }).modelSelector).toBe(
      Sel,
    );
  });

  test('configurePoolResource validates, returns the step, and omitted fields return to their defaults', async () => {
    const r = new ModelRunnerStep({ name: 'runner' });
    for (const bad of [
      { maxThreads: 0 },
      { maxProcesses: 1.5 },
      { poolFactor: -1 },
      { maxQueue: '2' },
      { other: 1 },
      null,
      [],
    ]) {
      throwsSg(() => r.configurePoolResource(bad as never), 'SG_ERR_INVALID_OPTION');
    }
    expect(r.configurePoolResource({ maxThreads: 4, maxProcesses: 2, poolFactor: 1, maxQueue: 10 })).toBe(r);
    const log = join(tempDir(), 'loads.log');
    r.addModel({
      endpointName: 't',
      modelClass: ref('AddN'),
      executionMechanism: 'thread_pool',
      modelParameters: { loadLog: log },
    });
    r.configurePoolResource({ poolFactor: 2 });
    r.configurePoolResource({ maxQueue: 5 }); // poolFactor back to 1
    const g = createGraph();
    g.to(r).respond();
    const s = serve(g);
    expect(await s.test('/', 1)).toBe(2);
    expect(lines(log)).toHaveLength(1);
  });
});
