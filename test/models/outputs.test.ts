import { describe, expect, test } from 'vitest';
import { createGraph, type Event, MapStep, Model, ModelRunnerStep } from '../../src/index.js';
import { runnerGraph, serve } from './helpers.js';
import { AddOne, AddTwo, Boom, type Ep, NextN, PickBody, stripPick, table5 } from './outputs-fixtures.js';

describe('the output (section 5)', () => {
  test('every row of the table', async () => {
    const rows: Array<[Ep[], string[] | undefined, unknown]> = [
      [[{ name: 'm1', resultPath: 'out' }], undefined, { n: 1, out: 2 }],
      [[{ name: 'm1' }], undefined, 2],
      [
        [
          { name: 'm1', resultPath: 'out' },
          { name: 'm2', resultPath: 'out2' },
        ],
        undefined,
        { m1: { n: 1, out: 2 }, m2: { n: 1, out2: 3 } },
      ],
      [[{ name: 'm1' }, { name: 'm2' }], undefined, { m1: 2, m2: 3 }],
      [[{ name: 'm1' }, { name: 'm2' }], ['m2'], { m2: 3 }],
      [[{ name: 'm1' }, { name: 'm2' }], [], {}],
      // one endpoint: selecting none still gives {}; the shape depends only on the number of endpoints
      [[{ name: 'm1' }], [], {}],
      [[{ name: 'm1' }, { name: 'm2' }], ['m2', 'm1'], { m2: 3, m1: 2 }],
    ];
    for (const [endpoints, pick, expected] of rows) {
      const out = await serve(table5(endpoints)).test('/', { n: 1, ...(pick ? { pick } : {}) });
      const clean = typeof out === 'object' && out !== null ? stripPick(out) : out;
      expect(clean, JSON.stringify({ endpoints, pick })).toEqual(expected);
      if (pick && pick.length > 0) expect(Object.keys(out as object)).toEqual(pick);
    }
  });

  test('each resultPath writes into its own copy of the body; nested paths are created', async () => {
    const { graph } = runnerGraph((r) => {
      r.addModel({
        endpointName: 'a',
        modelClass: AddOne,
        executionMechanism: 'naive',
        inputPath: 'n',
        resultPath: 'x.y',
      });
      r.addModel({
        endpointName: 'b',
        modelClass: AddTwo,
        executionMechanism: 'asyncio',
        inputPath: ['n'],
        resultPath: ['z'],
      });
    });
    const out = (await serve(graph).test('/', { n: 1, keep: { deep: true } })) as Record<
      string,
      Record<string, unknown>
    >;
    expect(out).toEqual({ a: { n: 1, keep: { deep: true }, x: { y: 2 } }, b: { n: 1, keep: { deep: true }, z: 3 } });
    expect(out.a.keep).not.toBe(out.b.keep);
  });

  test('a single model with resultPath writes into the body; its private input copy leaves the body unchanged', async () => {
    class Mutates extends Model<{ list: number[] }, number> {
      override predict(input: { list: number[] }) {
        input.list.push(4);
        return input.list.length;
      }
    }
    const { graph } = runnerGraph((r) =>
      r.addModel({
        endpointName: 'm',
        modelClass: Mutates,
        executionMechanism: 'naive',
        inputPath: 'in',
        resultPath: 'len',
      }),
    );
    expect(await serve(graph).test('/', { in: { list: [1, 2, 3] } })).toEqual({ in: { list: [1, 2, 3] }, len: 4 });
  });

  test('a missing inputPath gives the model undefined; an undefined output is written at resultPath as is', async () => {
    class Echo extends Model {
      override predict(input: unknown) {
        return input;
      }
    }
    const { graph } = runnerGraph((r) =>
      r.addModel({
        endpointName: 'e',
        modelClass: Echo,
        executionMechanism: 'naive',
        inputPath: 'a.b.c',
        resultPath: 'out',
      }),
    );
    const out = (await serve(graph).test('/', { a: 1 })) as Record<string, unknown>;
    expect(out).toEqual({ a: 1, out: undefined });
    expect(Object.hasOwn(out, 'out')).toBe(true);
  });

  test('meta.models records step, when, durationMs for each model that ran, with error and code for failures', async () => {
    const g = createGraph();
    const r = new ModelRunnerStep({ name: 'runner', raiseException: false, modelSelector: new PickBody() });
    r.addModel({ endpointName: 'ok', modelClass: NextN, executionMechanism: 'naive' });
    r.addModel({ endpointName: 'bad', modelClass: Boom, executionMechanism: 'naive' });
    r.addModel({ endpointName: 'idle', modelClass: NextN, executionMechanism: 'naive' });
    const before = Date.now();
    g.to(r)
      .to(new MapStep({ name: 'meta', fullEvent: true, handler: (ev: Event) => ev.meta.models }))
      .respond();
    const models = (await serve(g).test('/', { n: 1, pick: ['bad', 'ok'] })) as Record<string, Record<string, unknown>>;
    expect(Object.keys(models).sort()).toEqual(['bad', 'ok']);
    expect(Object.keys(models.ok).sort()).toEqual(['durationMs', 'step', 'when']);
    expect(models.ok.step).toBe('runner');
    expect(typeof models.ok.durationMs).toBe('number');
    expect(models.ok.durationMs as number).toBeGreaterThanOrEqual(0);
    expect(new Date(models.ok.when as string).toISOString()).toBe(models.ok.when);
    expect(Date.parse(models.ok.when as string)).toBeGreaterThanOrEqual(before - 1000);
    expect(models.bad).toMatchObject({ step: 'runner', error: 'TypeError: boom', code: 'SG_ERR_MODEL_FAILED' });
  });
});

function _stripPick(o: object): unknown {
  const { pick: _pick, ...rest } = o as Record<string, unknown>;
  return rest;
}
