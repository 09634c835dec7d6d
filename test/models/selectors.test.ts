import { describe, expect, test } from 'vitest';
import {
  createGraph,
  type Event,
  MapStep,
  Model,
  ModelArtifact,
  type ModelCallContext,
  type ModelEntry,
  ModelRunnerStep,
  ModelSelector,
  registerClass,
  SgError,
} from '../../src/index.js';
import { mixedLoad } from '../support/core.js';
import { ref, rejectsSg, runnerGraph, serve, sleep } from './helpers.js';

class Name extends Model {
  override predict(_input: unknown, ctx: ModelCallContext) {
    return ctx.endpointName;
  }
}

/** Returns what the body's `pick` says (or calls it, when it is a function of the entries). */
class Pick extends ModelSelector {
  calls = 0;
  override select(event: Event, available: readonly ModelEntry[]) {
    this.calls++;
    const pick = (event.body as { pick?: unknown }).pick;
    return (
      typeof pick === 'string' && pick.startsWith('entries:')
        ? pick
            .slice(8)
            .split(',')
            .map((n) => available.find((e) => e.name === n))
        : pick
    ) as never;
  }
}

function threeModels(
  selector: ModelSelector | string | (new (p: Record<string, unknown>) => ModelSelector),
  more: { modelSelectorParameters?: Record<string, unknown>; raiseException?: boolean } = {},
) {
  return runnerGraph(
    (r) => {
      r.addModel({ endpointName: 'a', modelClass: Name, executionMechanism: 'naive' });
      r.addModel({ endpointName: 'b', modelClass: Name, executionMechanism: 'asyncio' });
      r.addModel({ endpointName: 'c', modelClass: Name, executionMechanism: 'naive' });
    },
    { modelSelector: selector, ...more },
  );
}

describe('what select() returns', () => {
  test('names run in the order given; null and undefined run all in addModel order; [] gives {}', async () => {
    const sel = new Pick();
    const s = serve(threeModels(sel).graph);
    const out = await s.test('/', { pick: ['c', 'a'] });
    expect(out).toEqual({ c: 'c', a: 'a' });
    expect(Object.keys(out as object)).toEqual(['c', 'a']);
    expect(Object.keys((await s.test('/', { pick: null })) as object)).toEqual(['a', 'b', 'c']);
    expect(Object.keys((await s.test('/', {})) as object)).toEqual(['a', 'b', 'c']);
    expect(await s.test('/', { pick: [] })).toEqual({});
    expect(await s.test('/', { pick: 'entries:b,a' })).toEqual({ b: 'b', a: 'a' });
    expect(sel.calls).toBe(5);
  });

  test('entries and names may be mixed; the selector may be async', async () => {
    class AsyncMix extends ModelSelector {
      override async select(_e: Event, available: readonly ModelEntry[]) {
        await sleep(5);
        return ['b', available[2]];
      }
    }
    expect(await serve(threeModels(new AsyncMix()).graph).test('/', {})).toEqual({ b: 'b', c: 'c' });
  });

  test('unknown names and objects are SG_ERR_UNKNOWN_MODEL; repeats and wrong types SG_ERR_SELECTOR_INVALID', async () => {
    const s = serve(threeModels(new Pick(), { raiseException: false }).graph);
    const unknown = await rejectsSg(s.test('/', { pick: ['a', 'zzz'] }), 'SG_ERR_UNKNOWN_MODEL');
    expect(unknown).toMatchObject({ step: 'runner', details: { name: 'zzz', endpoints: ['a', 'b', 'c'] } });
    expect(unknown.message).toContain('zzz');
    expect(unknown.message).toContain("'a', 'b', 'c'");
    await rejectsSg(s.test('/', { pick: [{ name: 'zzz' }] }), 'SG_ERR_UNKNOWN_MODEL');
    await rejectsSg(s.test('/', { pick: [{ other: 1 }] }), 'SG_ERR_UNKNOWN_MODEL');
    for (const pick of [['a', 'a'], 'entries:a,a', 'a', 5, { a: true }, [1], [null], [['a']], true]) {
      const err = await rejectsSg(s.test('/', { pick }), 'SG_ERR_SELECTOR_INVALID');
      expect(err.step).toBe('runner');
    }
    // a mix of good and bad events at once: only the bad ones fail
    await mixedLoad(
      s,
      20,
      (i) => ({ pick: i % 4 === 0 ? ['a', 'a'] : ['b'] }),
      (i) => i % 4 === 0,
      'SG_ERR_SELECTOR_INVALID',
      () => ({ b: 'b' }),
    );
  });

  test('a selector that throws or rejects fails the event with SG_ERR_SELECTOR_FAILED whatever raiseException says', async () => {
    class Throws extends ModelSelector {
      override select(event: Event): string[] | Promise<string[]> {
        const how = (event.body as { how?: string }).how;
        if (how === 'throw') throw new TypeError('selector bug');
        if (how === 'reject') return Promise.reject(new RangeError('later'));
        if (how === 'sg') throw new SgError('SG_ERR_BAD_REQUEST', 'no topic');
        if (how === 'value') throw 'plain';
        return ['a'];
      }
    }
    for (const raiseException of [true, false]) {
      const s = serve(threeModels(new Throws(), { raiseException }).graph);
      const a = await rejectsSg(s.test('/', { how: 'throw' }), 'SG_ERR_SELECTOR_FAILED');
      expect(a.step).toBe('runner');
      expect(a.cause).toBeInstanceOf(TypeError);
      expect(a.message).toContain('TypeError: selector bug');
      const b = await rejectsSg(s.test('/', { how: 'reject' }), 'SG_ERR_SELECTOR_FAILED');
      expect(b.cause).toBeInstanceOf(RangeError);
      const c = await rejectsSg(s.test('/', { how: 'sg' }), 'SG_ERR_SELECTOR_FAILED');
      expect((c.cause as SgError).code).toBe('SG_ERR_BAD_REQUEST');
      const d = await rejectsSg(s.test('/', { how: 'value' }), 'SG_ERR_SELECTOR_FAILED');
      expect(d.cause).toBe('plain');
      expect(await s.test('/', {})).toEqual({ a: 'a' });
    }
  });

  test('selector failures reach error handlers, which get the event as it entered the runner', async () => {
    class Throws extends ModelSelector {
      override select(): never {
        throw new Error('nope');
      }
    }
    const g = createGraph();
    const r = new ModelRunnerStep({ name: 'runner', modelSelector: new Throws() });
    r.addModel({ endpointName: 'a', modelClass: Name, executionMechanism: 'naive' });
    g.to(r).respond();
    g.errorHandler(
      new MapStep({
        name: 'catch',
        fullEvent: true,
        handler: (ev: Event) => ({ code: ev.error?.code, origin: ev.originStep, body: ev.body }),
      }),
    );
    expect(await serve(g).test('/', { q: 1 })).toEqual({
      code: 'SG_ERR_SELECTOR_FAILED',
      origin: 'runner',
      body: { q: 1 },
    });
  });
});

describe('how the selector is given and built', () => {
  test('a registered name, a class and a module#Export are built once per server start with modelSelectorParameters', async () => {
    const built: Array<Record<string, unknown>> = [];
    class Fallback extends ModelSelector {
      constructor(params: Record<string, unknown> = {}) {
        super(params);
        built.push(params);
      }
      override select(event: Event) {
        return [(event.body as { topic?: string }).topic ?? (this.params.fallback as string)];
      }
    }
    registerClass('FallbackSelector', Fallback);
    for (const selector of ['FallbackSelector', Fallback]) {
      built.length = 0;
      const { graph } = threeModels(selector, { modelSelectorParameters: { fallback: 'c' } });
      for (let start = 0; start < 2; start++) {
        const s = serve(graph);
        expect(await s.test('/', {})).toEqual({ c: 'c' });
        expect(await s.test('/', { topic: 'b' })).toEqual({ b: 'b' });
        await s.close();
      }
      expect(built).toEqual([{ fallback: 'c' }, { fallback: 'c' }]);
    }
    const viaModule = serve(threeModels(ref('TopicSelector'), { modelSelectorParameters: { fallback: 'a' } }).graph);
    expect(await viaModule.test('/', {})).toEqual({ a: 'a' });
    expect(await viaModule.test('/', { topic: 'c' })).toEqual({ c: 'c' });
    // the alias
    const alias = runnerGraph((r) => r.addModel({ endpointName: 'x', modelClass: Name, executionMechanism: 'naive' }), {
      modelRunnerSelector: new Pick(),
    });
    expect(await serve(alias.graph).test('/', { pick: [] })).toEqual({});
  });

  test('the base select() returns undefined: every endpoint runs', async () => {
    expect(await serve(threeModels(new ModelSelector()).graph).test('/', {})).toEqual({ a: 'a', b: 'b', c: 'c' });
    expect(new ModelSelector().select({} as Event, [])).toBeUndefined();
  });

  test('an unknown selector name, a non-selector target or a throwing constructor fail start-up', async () => {
    await rejectsSg(serve(threeModels('NoSuchSelector').graph).ready(), 'SG_ERR_UNKNOWN_CLASS');
    await rejectsSg(serve(threeModels(ref('AddN')).graph).ready(), 'SG_ERR_INVALID_CLASS');
    class Broken extends ModelSelector {
      constructor() {
        super();
        throw new Error('bad params');
      }
    }
    const err = await rejectsSg(serve(threeModels(Broken).graph).ready(), 'SG_ERR_STEP_INIT');
    expect(err.step).toBe('runner');
  });

  test('availableModels: frozen ModelEntry descriptors of models and proxies, in addModel order', async () => {
    let seen: readonly ModelEntry[] = [];
    class Spy extends ModelSelector {
      override select(_e: Event, available: readonly ModelEntry[]) {
        seen = available;
        return [];
      }
    }
    registerClass('NameModel', Name);
    const art = new ModelArtifact({ key: 'shared-art' });
    const proxyArt = new ModelArtifact({ key: 'shared-art', description: 'the proxy own' });
    const own = new ModelArtifact({ key: 'own' });
    const g = createGraph();
    g.addSharedModel({ name: 'big', modelClass: 'NameModel', executionMechanism: 'asyncio', modelArtifact: art });
    const r = new ModelRunnerStep({ name: 'runner', modelSelector: new Spy() });
    r.addModel({
      endpointName: 'by-ref',
      modelClass: ref('AddN'),
      executionMechanism: 'thread_pool',
      labels: ['eu', 'tier=gold'],
    });
    r.addSharedModelProxy({
      endpointName: 'px',
      sharedModelName: 'big',
      modelArtifact: proxyArt,
      labels: { team: 'x' },
    });
    r.addModel({ endpointName: 'by-class', modelClass: Name, executionMechanism: 'naive', modelArtifact: own });
    r.addModel({
      endpointName: 'by-instance',
      modelClass: new Name({ name: 'by-instance' }),
      executionMechanism: 'asyncio',
    });
    r.addSharedModelProxy({ endpointName: 'px2', sharedModelName: 'big' });
    g.to(r).respond();
    expect(await serve(g).test('/', {})).toEqual({});
    expect(seen.map((e) => e.name)).toEqual(['by-ref', 'px', 'by-class', 'by-instance', 'px2']);
    expect(Object.isFrozen(seen)).toBe(true);
    for (const e of seen) {
      expect(Object.isFrozen(e)).toBe(true);
      expect(e.endpointName).toBe(e.name);
      expect(Object.keys(e).sort()).toEqual([
        'endpointName',
        'executionMechanism',
        'labels',
        'modelArtifact',
        'modelClass',
        'name',
      ]);
    }
    expect(seen[0]).toMatchObject({
      executionMechanism: 'thread_pool',
      modelClass: ref('AddN'),
      labels: { eu: '', tier: 'gold' },
      modelArtifact: undefined,
    });
    expect(seen[1]).toMatchObject({
      executionMechanism: 'shared_executor',
      modelClass: 'NameModel',
      labels: { team: 'x' },
    });
    expect(seen[1].modelArtifact).toBe(proxyArt);
    expect(seen[2]).toMatchObject({ executionMechanism: 'naive', modelClass: 'Name', labels: {} });
    expect(seen[2].modelArtifact).toBe(own);
    expect(seen[3]).toMatchObject({ executionMechanism: 'asyncio', modelClass: 'Name' });
    expect(seen[4].modelArtifact).toBe(art);
    expect(() => {
      (seen[0] as { name: string }).name = 'x';
    }).toThrow(TypeError);
  });
});
