import { describe, expect, test } from 'vitest';
import { createGraph, type Event, MapStep, Model, ModelRunnerStep, SgError } from '../../src/index.js';
import { mixedLoad } from '../support/core.js';
import { ref, rejectsSg, runnerGraph, serve, sleep } from './helpers.js';
import { AddOne, AddTwo, Boom, NextN, PickBody, SLOT, table6 } from './outputs-fixtures.js';

describe('failures and raiseException (section 6)', () => {
  test('every row of the table', async () => {
    expect(await serve(table6(['m2'], false)).test('/', { n: 1 })).toEqual(SLOT);
    expect(await serve(table6(['m1', 'm2'], false)).test('/', { n: 1 })).toEqual({ m1: { n: 2 }, m2: SLOT });
    const err = await rejectsSg(serve(table6(['m1', 'm2'], true)).test('/', { n: 1 }), 'SG_ERR_MODEL_RUNNER');
    expect(err).toMatchObject({ step: 'runner', endpoint: 'm2' });
    expect(err.details).toEqual({
      errors: { m2: 'TypeError: boom' },
      codes: { m2: 'SG_ERR_MODEL_FAILED' },
      results: { m1: { n: 2 }, m2: SLOT },
    });
    expect(err.message).toBe("model runner 'runner' failed: m2: TypeError: boom");
    expect(err.cause).toBeInstanceOf(SgError);
    expect((err.cause as SgError).code).toBe('SG_ERR_MODEL_FAILED');
    expect((err.cause as SgError).endpoint).toBe('m2');
    expect(((err.cause as SgError).cause as Error).message).toBe('boom');
    expect(err.status).toBe(500);
  });

  test('several failures: every one listed, no endpoint, cause the first in selection order', async () => {
    const { graph } = runnerGraph(
      (r) => {
        r.addModel({ endpointName: 'm1', modelClass: NextN, executionMechanism: 'naive' });
        r.addModel({ endpointName: 'm2', modelClass: Boom, executionMechanism: 'naive' });
        r.addModel({ endpointName: 'm3', modelClass: Boom, executionMechanism: 'asyncio' });
      },
      { modelSelector: new PickBody() },
    );
    const err = await rejectsSg(
      serve(graph).test('/', { n: 1, throw: 'value', pick: ['m3', 'm1', 'm2'] }),
      'SG_ERR_MODEL_RUNNER',
    );
    expect(err.endpoint).toBeUndefined();
    expect(err.details.errors).toEqual({ m3: 'Error: 42', m2: 'Error: 42' });
    expect(err.message).toBe("model runner 'runner' failed: m3: Error: 42; m2: Error: 42");
    expect((err.cause as SgError).endpoint).toBe('m3');
    expect(Object.keys(err.details.results as object)).toEqual(['m3', 'm1', 'm2']);
  });

  test("a thrown SgError keeps its code and status (raiseException true: the runner's status is the cause's), in every mechanism", async () => {
    for (const mech of ['naive', 'asyncio', 'thread_pool', 'process_pool', 'dedicated_process'] as const) {
      const cls = mech === 'naive' || mech === 'asyncio' ? Boom : ref('Thrower');
      const body = mech === 'naive' || mech === 'asyncio' ? { throw: 'bad-request' } : { kind: 'bad-request' };
      const raising = serve(
        runnerGraph((r) => r.addModel({ endpointName: 'm', modelClass: cls, executionMechanism: mech })).graph,
      );
      const err = await rejectsSg(raising.test('/', body), 'SG_ERR_MODEL_RUNNER');
      expect(err.status, mech).toBe(400);
      expect(err.cause, mech).toBeInstanceOf(SgError);
      expect(err.cause, mech).toMatchObject({
        code: 'SG_ERR_BAD_REQUEST',
        step: 'runner',
        endpoint: 'm',
        details: { field: 'q' },
      });
      expect(err.details.codes).toEqual({ m: 'SG_ERR_BAD_REQUEST' });
      const quiet = serve(
        runnerGraph((r) => r.addModel({ endpointName: 'm', modelClass: cls, executionMechanism: mech }), {
          raiseException: false,
        }).graph,
      );
      expect(await quiet.test('/', body), mech).toEqual({ error: "SgError: expected 'q'", code: 'SG_ERR_BAD_REQUEST' });
    }
  });

  test('a model that returns { error } is not failed; a failure slot is never written at resultPath', async () => {
    class ReturnsError extends Model {
      override predict() {
        return { error: 'not a failure' };
      }
    }
    const { graph } = runnerGraph(
      (r) => {
        r.addModel({ endpointName: 'e', modelClass: ReturnsError, executionMechanism: 'naive' });
        r.addModel({ endpointName: 'b', modelClass: Boom, executionMechanism: 'naive', resultPath: 'out' });
      },
      { raiseException: false },
    );
    expect(await serve(graph).test('/', { n: 1 })).toEqual({ e: { error: 'not a failure' }, b: SLOT });
  });

  test('paths that do not fit the body fail that call with SG_ERR_PATH_TARGET', async () => {
    const { graph } = runnerGraph(
      (r) => {
        r.addModel({ endpointName: 'in', modelClass: AddOne, executionMechanism: 'naive', inputPath: 'n' });
        r.addModel({ endpointName: 'out', modelClass: AddTwo, executionMechanism: 'asyncio', resultPath: 'x' });
      },
      { raiseException: false },
    );
    const out = (await serve(graph).test('/', 5)) as Record<string, { code: string }>;
    expect(out.in.code).toBe('SG_ERR_PATH_TARGET');
    expect(out.out.code).toBe('SG_ERR_PATH_TARGET');
  });

  test('an input that cannot be copied is SG_ERR_NOT_CLONEABLE (direction in); an async iterable output is SG_ERR_STREAM_UNDECLARED', async () => {
    class Iter extends Model {
      override predict() {
        return (async function* gen() {
          yield 1;
        })();
      }
    }
    const g = createGraph();
    const r = new ModelRunnerStep({ name: 'runner', raiseException: false });
    r.addModel({ endpointName: 'copy', modelClass: AddOne, executionMechanism: 'naive', inputPath: 'fn' });
    r.addModel({ endpointName: 'worker', modelClass: ref('AddN'), executionMechanism: 'thread_pool', inputPath: 'fn' });
    r.addModel({ endpointName: 'iter', modelClass: Iter, executionMechanism: 'asyncio', inputPath: 'ok' });
    g.to(new MapStep({ name: 'add-fn', handler: () => ({ fn: { f: () => 1 }, ok: 1 }) }))
      .to(r)
      .respond();
    const out = (await serve(g).test('/', {})) as Record<string, { code: string }>;
    expect(out.copy.code).toBe('SG_ERR_NOT_CLONEABLE');
    expect(out.worker.code).toBe('SG_ERR_NOT_CLONEABLE');
    expect(out.iter.code).toBe('SG_ERR_STREAM_UNDECLARED');
    const raising = createGraph();
    raising
      .to(new MapStep({ name: 'add-fn', handler: () => ({ fn: () => 1 }) }))
      .to(
        new ModelRunnerStep({ name: 'runner' }).addModel({
          endpointName: 'copy',
          modelClass: AddOne,
          executionMechanism: 'naive',
          inputPath: 'fn',
        }),
      )
      .respond();
    const err = await rejectsSg(serve(raising).test('/', {}), 'SG_ERR_MODEL_RUNNER');
    expect(err.cause).toMatchObject({
      code: 'SG_ERR_NOT_CLONEABLE',
      step: 'runner',
      endpoint: 'copy',
      details: { direction: 'in' },
    });
  });

  test('a failed call never cancels the others: the runner waits for every selected model', async () => {
    let finished = 0;
    class Slow extends Model {
      override async predictAsync() {
        await sleep(100);
        finished++;
        return 'slow-done';
      }
    }
    const { graph } = runnerGraph((r) => {
      r.addModel({ endpointName: 'fail', modelClass: Boom, executionMechanism: 'naive' });
      r.addModel({ endpointName: 'slow', modelClass: Slow, executionMechanism: 'asyncio' });
    });
    const err = await rejectsSg(serve(graph).test('/', {}), 'SG_ERR_MODEL_RUNNER');
    expect(finished).toBe(1);
    expect(err.details.results).toEqual({ fail: SLOT, slow: 'slow-done' });
  });

  test('one failing event does not disturb the others in flight, and the server keeps serving', async () => {
    class Sometimes extends Model<{ i: number }, number> {
      override async predictAsync(b: { i: number }) {
        await sleep(b.i % 5);
        if (b.i % 3 === 0) throw new TypeError(`no ${b.i}`);
        return b.i * 10;
      }
    }
    const { graph } = runnerGraph((r) =>
      r.addModel({ endpointName: 's', modelClass: Sometimes, executionMechanism: 'asyncio' }),
    );
    const s = serve(graph);
    await mixedLoad(
      s,
      30,
      (i) => ({ i }),
      (i) => i % 3 === 0,
      'SG_ERR_MODEL_RUNNER',
      (i) => i * 10,
    );
    expect(await s.test('/', { i: 1 })).toBe(10);
  });

  test("error handlers receive the runner's failure with the event as it entered the runner", async () => {
    const g = createGraph();
    const r = new ModelRunnerStep({ name: 'runner' });
    r.addModel({ endpointName: 'm1', modelClass: NextN, executionMechanism: 'naive' });
    r.addModel({ endpointName: 'm2', modelClass: Boom, executionMechanism: 'naive' });
    const prep = g.to(new MapStep({ name: 'prep', handler: (b: { n: number }) => ({ ...b, prepared: true }) }));
    prep
      .to(r)
      .to(new MapStep({ name: 'after', handler: (b: unknown) => ({ after: b }) }))
      .respond();
    r.errorHandler(
      new MapStep({
        name: 'fallback',
        fullEvent: true,
        handler: (ev: Event) => ({
          body: ev.body,
          code: ev.error?.code,
          origin: ev.originStep,
          results: ev.error?.details.results,
        }),
      }),
      { before: 'after' },
    );
    expect(await serve(g).test('/', { n: 1 })).toEqual({
      after: {
        body: { n: 1, prepared: true },
        code: 'SG_ERR_MODEL_RUNNER',
        origin: 'runner',
        results: { m1: { n: 2 }, m2: SLOT },
      },
    });
  });
});
