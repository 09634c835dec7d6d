import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  createGraph,
  type Graph,
  Model,
  ModelArtifact,
  type ModelCallContext,
  ModelRunnerStep,
  type SgError,
} from '../../src/index.js';
import { lines, ref, rejectsSg, serve, tempDir, throwsSg } from './helpers.js';

let loads = 0;
class Llm extends Model<unknown, unknown> {
  override load() {
    loads++;
  }
  override async predictAsync(input: unknown, ctx: ModelCallContext) {
    if ((input as { fail?: boolean })?.fail) throw new TypeError('llm down');
    return {
      input,
      endpoint: ctx.endpointName,
      step: ctx.step,
      artifact: ctx.artifact?.key,
      note: ctx.artifact?.description,
      name: this.name,
    };
  }
}

const baseArt = new ModelArtifact({ key: 'base-llm' });
const promptA = new ModelArtifact({ key: 'base-llm', description: 'prompt A' });
const promptB = new ModelArtifact({ key: 'base-llm', description: 'prompt B' });

/** Two runners in a row; `fill` adds their proxies. */
function twoRunners(fill: (g: Graph, r1: ModelRunnerStep, r2: ModelRunnerStep) => void): Graph {
  const g = createGraph();
  const r1 = new ModelRunnerStep({ name: 'support' });
  const r2 = new ModelRunnerStep({ name: 'sales' });
  fill(g, r1, r2);
  g.to(r1).to(r2).respond();
  return g;
}

describe('shared models and proxies', () => {
  test('one load serves several proxies in several runners; each proxy calls with its own name and artifact', async () => {
    loads = 0;
    const g = twoRunners((graph, r1, r2) => {
      r1.addSharedModelProxy({ endpointName: 'support-answer', modelArtifact: promptA }); // found by artifact
      r1.addSharedModelProxy({ endpointName: 'support-check', sharedModelName: 'llm' }); // by name
      r2.addSharedModelProxy({ endpointName: 'sales-answer', sharedModelName: 'llm', modelArtifact: promptB });
      graph.addSharedModel({ name: 'llm', modelClass: Llm, executionMechanism: 'asyncio', modelArtifact: baseArt }); // after the proxies
    });
    const s = serve(g);
    // 'sales' has one endpoint: its output is the proxy's result itself (section 5)
    const out = (await s.test('/', 'hi')) as Record<string, unknown>;
    expect(loads).toBe(1);
    expect(out).toMatchObject({ endpoint: 'sales-answer', step: 'sales', note: 'prompt B', name: 'llm' });
    const inner = out.input as Record<string, Record<string, unknown>>;
    expect(Object.keys(inner)).toEqual(['support-answer', 'support-check']);
    expect(inner['support-answer']).toEqual({
      input: 'hi',
      endpoint: 'support-answer',
      step: 'support',
      artifact: 'base-llm',
      note: 'prompt A',
      name: 'llm',
    });
    expect(inner['support-check']).toMatchObject({ endpoint: 'support-check', artifact: 'base-llm', note: '' });
    await s.test('/', 'again');
    expect(loads).toBe(1);
    expect((await s.monitoring.calls('support-answer')).length).toBe(2);
  });

  test('a shared model in a worker is loaded once per worker for all proxies; ctx and paths come through', async () => {
    const log = join(tempDir(), 'loads.log');
    const g = twoRunners((graph, r1, r2) => {
      graph.addSharedModel({
        name: 'where',
        modelClass: ref('Where'),
        executionMechanism: 'thread_pool',
        modelParameters: { loadLog: log },
        inputPath: 'q',
        modelArtifact: baseArt,
      });
      r1.addSharedModelProxy({ endpointName: 'w1', sharedModelName: 'where', modelArtifact: promptA });
      r1.addSharedModelProxy({ endpointName: 'w2', sharedModelName: 'where' });
      r2.addSharedModelProxy({ endpointName: 'w3', modelArtifact: promptB });
    });
    const s = serve(g);
    const out = (await s.test('/', { q: { v: 1 } }, { id: 'ev-shared' })) as Record<string, unknown>;
    const w3 = out as {
      name: string;
      endpoint: string;
      step: string;
      threadId: number;
      artifactKey: string;
      eventId: string;
    };
    expect(w3).toMatchObject({
      name: 'where',
      endpoint: 'w3',
      step: 'sales',
      artifactKey: 'base-llm',
      eventId: 'ev-shared',
      mechanism: 'thread_pool',
    });
    expect(w3.threadId).not.toBe(0);
    expect(lines(log)).toHaveLength(1);
    for (let i = 0; i < 3; i++) await s.test('/', { q: i });
    expect(lines(log)).toHaveLength(1);
  });

  test('a shared model that no proxy uses is not loaded', async () => {
    const log = join(tempDir(), 'loads.log');
    loads = 0;
    const g = createGraph();
    g.addSharedModel({ name: 'unused-main', modelClass: Llm, executionMechanism: 'naive' });
    g.addSharedModel({
      name: 'unused-worker',
      modelClass: ref('Where'),
      executionMechanism: 'process_pool',
      modelParameters: { loadLog: log },
    });
    g.addSharedModel({ name: 'used', modelClass: ref('AddN'), executionMechanism: 'dedicated_process' });
    g.to(
      new ModelRunnerStep({ name: 'r' }).addSharedModelProxy({ endpointName: 'p', sharedModelName: 'used' }),
    ).respond();
    const s = serve(g);
    expect(await s.test('/', 1)).toBe(2);
    expect(loads).toBe(0);
    expect(lines(log)).toEqual([]);
  });

  test('two proxies of one shared model in one step make two calls; failures are recorded under the proxy', async () => {
    const g = createGraph();
    g.addSharedModel({ name: 'llm', modelClass: Llm, executionMechanism: 'asyncio' });
    g.to(
      new ModelRunnerStep({ name: 'r', raiseException: false })
        .addSharedModelProxy({ endpointName: 'p1', sharedModelName: 'llm' })
        .addSharedModelProxy({ endpointName: 'p2', sharedModelName: 'llm' }),
    ).respond();
    const s = serve(g);
    const out = (await s.test('/', { fail: true })) as Record<string, unknown>;
    expect(out).toEqual({
      p1: { error: 'TypeError: llm down', code: 'SG_ERR_MODEL_FAILED' },
      p2: { error: 'TypeError: llm down', code: 'SG_ERR_MODEL_FAILED' },
    });
    const [call] = await s.monitoring.calls('p2');
    expect(call).toMatchObject({ outcome: 'error', errorCode: 'SG_ERR_MODEL_FAILED' });
    expect(await s.monitoring.getEndpoint('p1')).toMatchObject({
      kind: 'proxy',
      sharedModel: 'llm',
      executionMechanism: 'asyncio',
      modelClass: 'Llm',
      step: 'r',
    });
    await rejectsSg(s.monitoring.getEndpoint('llm'), 'SG_ERR_ENDPOINT_NOT_FOUND');
  });

  test('a raising runner names the failed proxy', async () => {
    const g = createGraph();
    g.addSharedModel({ name: 'llm', modelClass: Llm, executionMechanism: 'naive' });
    g.to(
      new ModelRunnerStep({ name: 'r' }).addSharedModelProxy({ endpointName: 'px', sharedModelName: 'llm' }),
    ).respond();
    const err = await rejectsSg(serve(g).test('/', { fail: true }), 'SG_ERR_MODEL_RUNNER');
    expect(err).toMatchObject({ step: 'r', endpoint: 'px', details: { codes: { px: 'SG_ERR_MODEL_FAILED' } } });
    expect((err.cause as SgError).endpoint).toBe('px');
  });
});

describe('finding the shared model', () => {
  const proxyGraph = (
    proxy: Parameters<ModelRunnerStep['addSharedModelProxy']>[0],
    shared: Array<{ name: string; art?: ModelArtifact }>,
  ) => {
    const g = createGraph();
    for (const s of shared)
      g.addSharedModel({ name: s.name, modelClass: Llm, executionMechanism: 'asyncio', modelArtifact: s.art });
    g.to(new ModelRunnerStep({ name: 'runner' }).addSharedModelProxy(proxy)).respond();
    return g;
  };

  test('each failure to find it, at validate()', () => {
    const other = new ModelArtifact({ key: 'other' });
    const e1 = throwsSg(
      () => proxyGraph({ endpointName: 'p', sharedModelName: 'nope' }, [{ name: 'llm' }]).validate(),
      'SG_ERR_UNKNOWN_SHARED_MODEL',
    );
    expect(e1).toMatchObject({ step: 'runner', endpoint: 'p' });
    expect(e1.message).toContain('nope');
    const e2 = throwsSg(
      () => proxyGraph({ endpointName: 'p', modelArtifact: other }, [{ name: 'llm', art: baseArt }]).validate(),
      'SG_ERR_UNKNOWN_SHARED_MODEL',
    );
    expect(e2.message).toContain('other');
    const e3 = throwsSg(
      () =>
        proxyGraph({ endpointName: 'p', sharedModelName: 'llm', modelArtifact: other }, [
          { name: 'llm', art: baseArt },
        ]).validate(),
      'SG_ERR_SHARED_MODEL_MISMATCH',
    );
    expect(e3).toMatchObject({ step: 'runner', endpoint: 'p' });
    expect(e3.message).toContain('llm');
    const e4 = throwsSg(
      () =>
        proxyGraph({ endpointName: 'p', modelArtifact: promptA }, [
          { name: 'a', art: baseArt },
          { name: 'b', art: promptB },
        ]).validate(),
      'SG_ERR_AMBIGUOUS_SHARED_MODEL',
    );
    expect(e4.details.candidates).toEqual(['a', 'b']);
    expect(e4.message).toContain("'a', 'b'");
    // a name resolves the ambiguity
    proxyGraph({ endpointName: 'p', sharedModelName: 'b', modelArtifact: promptA }, [
      { name: 'a', art: baseArt },
      { name: 'b', art: promptB },
    ]).validate();
    // createMockServer validates too
    throwsSg(
      () => serve(proxyGraph({ endpointName: 'p', sharedModelName: 'nope' }, [])),
      'SG_ERR_UNKNOWN_SHARED_MODEL',
    );
  });

  test('addSharedModel and addSharedModelProxy options', () => {
    const g = createGraph();
    g.addSharedModel({ name: 'llm', modelClass: Llm, executionMechanism: 'asyncio' });
    const dup = throwsSg(
      () => g.addSharedModel({ name: 'llm', modelClass: Llm, executionMechanism: 'naive' }),
      'SG_ERR_DUPLICATE_SHARED_MODEL',
    );
    expect(dup.message).toContain('llm');
    expect(g.addSharedModel({ name: 'llm', modelClass: Llm, executionMechanism: 'naive', override: true })).toBe(g);
    throwsSg(
      () => g.addSharedModel({ name: 'x', modelClass: Llm, executionMechanism: 'shared_executor' as never }),
      'SG_ERR_INVALID_OPTION',
    );
    throwsSg(
      () => g.addSharedModel({ name: 'x', modelClass: Llm, executionMechanism: 'bogus' as never }),
      'SG_ERR_INVALID_MECHANISM',
    );
    throwsSg(
      () => g.addSharedModel({ name: 'x', modelClass: Llm, executionMechanism: 'thread_pool' }),
      'SG_ERR_NOT_WORKER_LOADABLE',
    );
    throwsSg(
      () =>
        g.addSharedModel({
          name: 'x',
          modelClass: ref('AddN'),
          executionMechanism: 'thread_pool',
          modelParameters: { f: () => 1 },
        }),
      'SG_ERR_NOT_CLONEABLE',
    );
    for (const bad of [
      { endpointName: 'x' },
      { labels: ['a'] },
      { modelEndpointCreationStrategy: 'archive' },
      { name: '' },
      { name: 'a b' },
      { override: 1 },
    ]) {
      throwsSg(
        () => g.addSharedModel({ name: 'x', modelClass: Llm, executionMechanism: 'naive', ...bad } as never),
        'SG_ERR_INVALID_OPTION',
      );
    }
    const r = new ModelRunnerStep({ name: 'r' });
    throwsSg(() => r.addSharedModelProxy({ endpointName: 'p' }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => r.addSharedModelProxy({ endpointName: 'p', sharedModelName: '' }), 'SG_ERR_INVALID_OPTION');
    throwsSg(
      () => r.addSharedModelProxy({ endpointName: 'p', sharedModelName: 'llm', modelClass: Llm } as never),
      'SG_ERR_INVALID_OPTION',
    );
    throwsSg(
      () => r.addSharedModelProxy({ endpointName: 'p', modelArtifact: { key: 'k' } as never }),
      'SG_ERR_INVALID_OPTION',
    );
    throwsSg(
      () =>
        r.addSharedModelProxy({
          endpointName: 'p',
          sharedModelName: 'llm',
          modelEndpointCreationStrategy: 'x' as never,
        }),
      'SG_ERR_INVALID_OPTION',
    );
    expect(
      r.addSharedModelProxy({
        endpointName: 'p',
        sharedModelName: 'llm',
        labels: ['eu'],
        modelEndpointCreationStrategy: 'archive',
      }),
    ).toBe(r);
    throwsSg(() => r.addSharedModelProxy({ endpointName: 'p', sharedModelName: 'llm' }), 'SG_ERR_DUPLICATE_ENDPOINT');
    r.addSharedModelProxy({ endpointName: 'p', sharedModelName: 'llm', override: true });
    // a shared model name may equal an endpoint name
    g.addSharedModel({ name: 'p', modelClass: Llm, executionMechanism: 'naive' });
    g.to(r).respond();
    g.validate();
  });

  test('configureSharedPoolResource validates and sizes the graph-level pools', async () => {
    const g = createGraph();
    for (const bad of [{ maxThreads: 0 }, { poolFactor: 2.5 }, { maxQueue: -1 }, { maxProcesses: '1' }, { nope: 1 }]) {
      throwsSg(() => g.configureSharedPoolResource(bad as never), 'SG_ERR_INVALID_OPTION');
    }
    const log = join(tempDir(), 'loads.log');
    g.addSharedModel({
      name: 'where',
      modelClass: ref('Where'),
      executionMechanism: 'thread_pool',
      modelParameters: { loadLog: log },
    });
    expect(g.configureSharedPoolResource({ poolFactor: 2, maxThreads: 2 })).toBe(g);
    g.to(
      new ModelRunnerStep({ name: 'r' }).addSharedModelProxy({ endpointName: 'p', sharedModelName: 'where' }),
    ).respond();
    const s = serve(g);
    const threads = new Set<number>();
    const replies = await Promise.all(Array.from({ length: 8 }, () => s.test('/', { ms: 50 })));
    for (const r of replies) threads.add((r as { threadId: number }).threadId);
    expect(lines(log)).toHaveLength(2);
    expect(threads.size).toBe(2);
  });
});

describe('failures of a shared worker model', () => {
  test('name the calling proxy, not the shared model', async () => {
    const g = createGraph();
    g.addSharedModel({ name: 'sh', modelClass: ref('Thrower'), executionMechanism: 'thread_pool' });
    const r = new ModelRunnerStep({ name: 'r' });
    r.addSharedModelProxy({ endpointName: 'proxy-a', sharedModelName: 'sh' });
    g.to(r).respond();
    const err = await rejectsSg(serve(g).test('/', { kind: 'type' }), 'SG_ERR_MODEL_RUNNER');
    expect(err.endpoint).toBe('proxy-a');
    expect((err.cause as { endpoint: string }).endpoint).toBe('proxy-a');
  });
});
