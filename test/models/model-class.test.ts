import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  createGraph,
  type ExecutionMechanism,
  Model,
  ModelArtifact,
  type ModelCallContext,
  ModelRunnerStep,
  SgError,
} from '../../src/index.js';
import { lines, ref, rejectsSg, runnerGraph, serve, sleep, tempDir, throwsSg, traceStep } from './helpers.js';

type Mech = Exclude<ExecutionMechanism, 'shared_executor'>;
const WORKER_MECHS: Mech[] = ['thread_pool', 'process_pool', 'dedicated_process'];

describe('Model options', () => {
  test('an unknown option, bad modelParameters, a bad name or artifact throw SG_ERR_INVALID_OPTION', () => {
    throwsSg(() => new Model({ name: 'm', foo: 1 } as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new Model({ name: 'm', modelParameters: [] as never }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new Model({ name: 'm', modelParameters: 'x' as never }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new Model({ name: 'm', modelParameters: null as never }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new Model({} as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new Model(null as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new Model({ name: 'm', modelArtifact: { key: 'k' } as never }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new Model({ name: 'm', inputPath: 'a..b' }), 'SG_ERR_INVALID_OPTION');
  });

  test('read-only properties hold the options; executionMechanism and logger are set by the runner', () => {
    const artifact = new ModelArtifact({ key: 'k1' });
    const m = new Model({
      name: 'm',
      modelParameters: { a: 1 },
      modelArtifact: artifact,
      inputPath: 'x.y',
      resultPath: ['out'],
    });
    expect(m.name).toBe('m');
    expect(m.modelParameters).toEqual({ a: 1 });
    expect(m.modelArtifact).toBe(artifact);
    expect(m.invocationArtifact).toBeUndefined();
    expect(m.inputPath).toBeDefined();
    expect(m.resultPath).toBeDefined();
    expect(m.executionMechanism).toBeUndefined();
    for (const level of ['debug', 'info', 'warn', 'error'] as const) expect(typeof m.logger[level]).toBe('function');
    expect(new Model({ name: 'bare' }).modelParameters).toEqual({});
    for (const prop of [
      'name',
      'modelParameters',
      'modelArtifact',
      'invocationArtifact',
      'inputPath',
      'resultPath',
      'executionMechanism',
      'logger',
    ]) {
      expect(() => {
        (m as unknown as Record<string, unknown>)[prop] = 'changed';
      }, prop).toThrow(TypeError);
    }
    expect(m.name).toBe('m');
  });
});

describe('load()', () => {
  test('runs once per copy, before any call, however many events come', async () => {
    let loads = 0;
    class Slow extends Model<unknown, unknown> {
      loaded = false;
      override async load() {
        loads++;
        await sleep(100);
        this.loaded = true;
      }
      override predict() {
        return { loaded: this.loaded, mechanism: this.executionMechanism };
      }
    }
    const { graph } = runnerGraph((r) =>
      r.addModel({ endpointName: 'slow', modelClass: Slow, executionMechanism: 'asyncio' }),
    );
    const s = serve(graph);
    const replies = await Promise.all([1, 2, 3].map(() => s.test('/', {})));
    expect(replies).toEqual([1, 2, 3].map(() => ({ loaded: true, mechanism: 'asyncio' })));
    expect(loads).toBe(1);
  });

  test('workers load each model once per copy (one per worker), never per event', async () => {
    const log = join(tempDir(), 'loads.log');
    const { graph, runner } = runnerGraph((r) => {
      r.addModel({
        endpointName: 't',
        modelClass: ref('AddN'),
        executionMechanism: 'thread_pool',
        modelParameters: { loadLog: log },
      });
      r.addModel({
        endpointName: 'p',
        modelClass: ref('AddN'),
        executionMechanism: 'process_pool',
        modelParameters: { loadLog: log },
      });
      r.addModel({
        endpointName: 'd',
        modelClass: ref('AddN'),
        executionMechanism: 'dedicated_process',
        modelParameters: { loadLog: log },
      });
    });
    runner.configurePoolResource({ poolFactor: 2 });
    const s = serve(graph);
    await s.ready();
    for (let i = 0; i < 6; i++) expect(await s.test('/', i)).toEqual({ t: i + 1, p: i + 1, d: i + 1 });
    const byModel = (name: string) => lines(log).filter((l) => l.startsWith(`${name}:`));
    expect(byModel('t')).toHaveLength(2);
    expect(byModel('p')).toHaveLength(2);
    expect(byModel('d')).toHaveLength(1);
  });

  test('load() throwing fails start-up with SG_ERR_MODEL_LOAD naming step and endpoint; an SgError is kept', async () => {
    class Fails extends Model {
      override load() {
        throw new Error('no weights');
      }
      override predict() {
        return 1;
      }
    }
    class FailsSg extends Model {
      override load() {
        throw new SgError('SG_ERR_PROVIDER_CREDENTIALS', 'no API key', { details: { provider: 'x' } });
      }
      override predict() {
        return 1;
      }
    }
    const a = serve(
      runnerGraph((r) => r.addModel({ endpointName: 'm', modelClass: Fails, executionMechanism: 'naive' })).graph,
    );
    const err = await rejectsSg(a.ready(), 'SG_ERR_MODEL_LOAD');
    expect(err).toMatchObject({ step: 'runner', endpoint: 'm' });
    expect(err.message).toContain('no weights');
    expect((err.cause as Error).message).toBe('no weights');
    await rejectsSg(a.test('/', 1), 'SG_ERR_MODEL_LOAD');

    const b = serve(
      runnerGraph((r) => r.addModel({ endpointName: 'm', modelClass: FailsSg, executionMechanism: 'asyncio' })).graph,
    );
    const sg = await rejectsSg(b.ready(), 'SG_ERR_PROVIDER_CREDENTIALS');
    expect(sg).toMatchObject({ step: 'runner', endpoint: 'm', details: { provider: 'x' } });

    for (const mech of WORKER_MECHS) {
      const c = serve(
        runnerGraph((r) => r.addModel({ endpointName: 'w', modelClass: ref('LoadFails'), executionMechanism: mech }))
          .graph,
      );
      const werr = await rejectsSg(c.ready(), 'SG_ERR_MODEL_LOAD');
      expect(werr, mech).toMatchObject({ step: 'runner', endpoint: 'w' });
      expect(werr.message).toContain('no weights');
    }
  });
});

describe('predict, predictAsync and ctx', () => {
  test('ctx carries endpointName, step, eventId, path, artifact, batch, signal, trace and recordUsage', async () => {
    let seen: ModelCallContext | undefined;
    class Probe extends Model {
      override predict(input: unknown, ctx: ModelCallContext) {
        seen = ctx;
        ctx.recordUsage({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
        return input;
      }
    }
    const artifact = new ModelArtifact({ key: 'probe-model' });
    const graph = createGraph();
    const runner = new ModelRunnerStep({ name: 'runner' });
    runner.addModel({ endpointName: 'probe', modelClass: Probe, executionMechanism: 'naive', modelArtifact: artifact });
    graph.to(traceStep('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).to(runner).respond();
    const s = serve(graph);
    expect(await s.test('/predict/x', { q: 1 }, { id: 'ev-1' })).toEqual({ q: 1 });
    expect(seen).toMatchObject({
      endpointName: 'probe',
      step: 'runner',
      eventId: 'ev-1',
      path: '/predict/x',
      batch: undefined,
    });
    expect(seen!.artifact).toBe(artifact);
    expect(seen!.signal).toBeInstanceOf(AbortSignal);
    expect(seen!.signal.aborted).toBe(false);
    expect(seen!.trace).toEqual({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'k=v',
    });
    const [call] = await s.monitoring.calls('probe');
    expect(call).toMatchObject({ eventId: 'ev-1', promptTokens: 3, completionTokens: 4, totalTokens: 7 });
  });

  test('ctx is the same in workers and for a module model on the main thread (endpointName, step, eventId, artifact, batch)', async () => {
    // the module imports servegraph's compiled copy: its Model and ModelArtifact must accept this copy's artifact
    const artifact = new ModelArtifact({ key: 'where-model' });
    const mechs: Mech[] = ['naive', 'asyncio', ...WORKER_MECHS];
    const graph = createGraph();
    const runner = new ModelRunnerStep({ name: 'runner' });
    for (const mech of mechs)
      runner.addModel({
        endpointName: mech,
        modelClass: ref('Where'),
        executionMechanism: mech,
        modelArtifact: artifact,
      });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    graph.to(traceStep(traceparent)).to(runner).respond();
    const s = serve(graph);
    const usage = { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 };
    const out = (await s.test('/in/worker', { usage }, { id: 'ev-w' })) as Record<string, Record<string, unknown>>;
    for (const mech of mechs) {
      expect(out[mech], mech).toMatchObject({
        name: mech,
        endpoint: mech,
        step: 'runner',
        eventId: 'ev-w',
        path: '/in/worker',
        mechanism: mech,
        artifactKey: 'where-model',
        ownArtifactKey: 'where-model',
        aborted: false,
        trace: { traceparent, tracestate: 'k=v' },
      });
      expect(out[mech].batch).toBeUndefined();
      const [call] = await s.monitoring.calls(mech);
      expect(call, mech).toMatchObject({ eventId: 'ev-w', promptTokens: 2, completionTokens: 3, totalTokens: 5 });
    }
  });

  test('close() runs once per copy at shut-down, on the main thread and in each worker', async () => {
    let closes = 0;
    class Closing extends Model {
      override predict() {
        return 1;
      }
      override async close() {
        closes++;
      }
    }
    const log = join(tempDir(), 'close.log');
    const { graph, runner } = runnerGraph((r) => {
      r.addModel({ endpointName: 'main', modelClass: Closing, executionMechanism: 'asyncio' });
      for (const mech of WORKER_MECHS)
        r.addModel({
          endpointName: mech,
          modelClass: ref('Where'),
          executionMechanism: mech,
          modelParameters: { closeLog: log },
        });
    });
    runner.configurePoolResource({ poolFactor: 2 });
    const s = serve(graph);
    await s.test('/', {});
    expect(closes).toBe(0);
    await s.close();
    expect(closes).toBe(1);
    const byModel = (name: string) => lines(log).filter((l) => l.startsWith(`${name}:`));
    expect(byModel('thread_pool')).toHaveLength(2);
    expect(byModel('process_pool')).toHaveLength(2);
    expect(byModel('dedicated_process')).toHaveLength(1);
  });

  test('each model gets a private copy of its input: changing it changes neither the body nor another model', async () => {
    class Mutator extends Model<Record<string, unknown>, unknown> {
      override predict(input: Record<string, unknown>) {
        input.x = 'changed';
        (input.nested as number[]).push(99);
        return 'done';
      }
    }
    class Reader extends Model<unknown, unknown> {
      override async predictAsync(input: unknown) {
        await sleep(5);
        return input;
      }
    }
    const { graph } = runnerGraph((r) => {
      r.addModel({
        endpointName: 'mut',
        modelClass: Mutator,
        executionMechanism: 'naive',
        inputPath: 'a',
        resultPath: 'out',
      });
      r.addModel({ endpointName: 'read', modelClass: Reader, executionMechanism: 'asyncio', inputPath: 'a' });
      r.addModel({
        endpointName: 'worker',
        modelClass: ref('Where'),
        executionMechanism: 'thread_pool',
        inputPath: 'a',
      });
    });
    const s = serve(graph);
    const out = (await s.test('/', { a: { x: 1, nested: [1], mutate: true } })) as Record<string, unknown>;
    expect(out.mut).toEqual({ a: { x: 1, nested: [1], mutate: true }, out: 'done' });
    expect(out.read).toEqual({ x: 1, nested: [1], mutate: true });
  });

  test('naive prefers predict, asyncio prefers predictAsync; each falls back to the other', async () => {
    class Both extends Model {
      override predict() {
        return 'predict';
      }
      override async predictAsync() {
        return 'predictAsync';
      }
    }
    class SyncOnly extends Model {
      override predict() {
        return 'predict';
      }
    }
    class AsyncOnly extends Model {
      override async predictAsync() {
        return 'predictAsync';
      }
    }
    const { graph } = runnerGraph((r) => {
      r.addModel({ endpointName: 'naive-both', modelClass: Both, executionMechanism: 'naive' });
      r.addModel({ endpointName: 'asyncio-both', modelClass: Both, executionMechanism: 'asyncio' });
      r.addModel({ endpointName: 'naive-async', modelClass: AsyncOnly, executionMechanism: 'naive' });
      r.addModel({ endpointName: 'asyncio-sync', modelClass: SyncOnly, executionMechanism: 'asyncio' });
    });
    expect(await serve(graph).test('/', {})).toEqual({
      'naive-both': 'predict',
      'asyncio-both': 'predictAsync',
      'naive-async': 'predictAsync',
      'asyncio-sync': 'predict',
    });
  });

  test('worker mechanisms prefer predict and fall back to predictAsync', async () => {
    const { graph } = runnerGraph((r) => {
      for (const mech of WORKER_MECHS) {
        r.addModel({ endpointName: `${mech}-both`, modelClass: ref('Both'), executionMechanism: mech });
        r.addModel({ endpointName: `${mech}-async`, modelClass: ref('AsyncOnly'), executionMechanism: mech });
      }
    });
    const out = (await serve(graph).test('/', 5)) as Record<string, unknown>;
    for (const mech of WORKER_MECHS) {
      expect(out[`${mech}-both`], mech).toBe('predict');
      expect(out[`${mech}-async`], mech).toEqual({ via: 'predictAsync', input: 5 });
    }
  });

  test('a model implementing no predict method fails start-up with SG_ERR_PREDICT_NOT_IMPLEMENTED naming step, endpoint, mechanism', async () => {
    class Nothing extends Model {}
    for (const [mech, cls] of [
      ['naive', Nothing],
      ['asyncio', Nothing],
      ['thread_pool', ref('NoPredict')],
      ['process_pool', ref('NoPredict')],
      ['dedicated_process', ref('NoPredict')],
    ] as const) {
      const s = serve(
        runnerGraph((r) => r.addModel({ endpointName: 'empty', modelClass: cls, executionMechanism: mech })).graph,
      );
      const err = await rejectsSg(s.ready(), 'SG_ERR_PREDICT_NOT_IMPLEMENTED');
      expect(err, mech).toMatchObject({ step: 'runner', endpoint: 'empty' });
      expect(err.message, mech).toContain('runner');
      expect(err.message, mech).toContain('empty');
      expect(err.message, mech).toContain(mech);
    }
  });

  test('a model instance is used as given (one copy, its own state)', async () => {
    class Counter extends Model<unknown, number> {
      n = 0;
      override predict() {
        return ++this.n;
      }
    }
    const inst = new Counter({ name: 'count' });
    const s = serve(
      runnerGraph((r) => r.addModel({ endpointName: 'count', modelClass: inst, executionMechanism: 'naive' })).graph,
    );
    expect(await s.test('/', {})).toBe(1);
    expect(await s.test('/', {})).toBe(2);
    expect(inst.n).toBe(2);
    expect(inst.executionMechanism).toBe('naive');
  });
});
