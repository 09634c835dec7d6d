import { describe, expect, test } from 'vitest';
import {
  Batch,
  createGraph,
  type Event,
  Model,
  type ModelCallContext,
  type ModelEntry,
  ModelRunnerStep,
  ModelSelector,
  SgError,
} from '../../src/index.js';
import { ref, serve } from './helpers.js';

type Call = { input: unknown; batch: { size: number } | undefined; eventId: string };

/** Records each call; returns item * 10 per member (or `input` shaped by the body's `shape`). */
class Tens extends Model<unknown, unknown> {
  static calls: Call[] = [];
  override predict(input: unknown, ctx: ModelCallContext) {
    Tens.calls.push({ input, batch: ctx.batch, eventId: ctx.eventId });
    if (!ctx.batch) return (input as number) * 10;
    const items = input as Array<number | { n: number; fail?: string }>;
    const shape = (items[0] as { shape?: string })?.shape;
    if (shape === 'short') return items.slice(1);
    if (shape === 'scalar') return 'not an array';
    return items.map((x) => {
      if (typeof x === 'number') return x * 10;
      if (x.fail === 'error') return new RangeError(`bad ${x.n}`);
      if (x.fail === 'sg') return new SgError('SG_ERR_BAD_REQUEST', `refused ${x.n}`);
      return x.n * 10;
    });
  }
}
class Ones extends Model<number[], number[]> {
  override async predictAsync(input: number[], ctx: ModelCallContext) {
    return ctx.batch ? input.map((x) => x + 1) : (input as unknown as number[]);
  }
}

function batchGraph(
  fill: (r: ModelRunnerStep) => void,
  options: { raiseException?: boolean; fullEvent?: boolean; size?: number; selector?: ModelSelector } = {},
) {
  Tens.calls = [];
  const g = createGraph();
  const r = new ModelRunnerStep({
    name: 'runner',
    raiseException: options.raiseException,
    modelSelector: options.selector,
  });
  fill(r);
  g.to(new Batch({ name: 'batch', maxEvents: options.size ?? 3, flushAfterSeconds: 5, fullEvent: options.fullEvent }))
    .to(r)
    .respond();
  return g;
}

const send = (s: ReturnType<typeof serve>, bodies: unknown[]) =>
  Promise.allSettled(bodies.map((b, i) => s.test('/', b, { id: `m${i}` })));
const values = (rs: PromiseSettledResult<unknown>[]) =>
  rs.map((r) => (r.status === 'fulfilled' ? r.value : ((r as PromiseRejectedResult).reason as SgError).code));

describe('a model that receives a batch', () => {
  for (const fullEvent of [false, true]) {
    test(`one call per selected model with the members' inputs and ctx.batch; per-member bodies (fullEvent: ${fullEvent})`, async () => {
      const g = batchGraph(
        (r) => {
          r.addModel({ endpointName: 'tens', modelClass: Tens, executionMechanism: 'naive', inputPath: 'x' });
          r.addModel({
            endpointName: 'ones',
            modelClass: Ones,
            executionMechanism: 'asyncio',
            inputPath: 'x',
            resultPath: 'y',
          });
          r.addModel({
            endpointName: 'worker',
            modelClass: ref('AddN'),
            executionMechanism: 'thread_pool',
            inputPath: 'x',
          });
        },
        { fullEvent },
      );
      const s = serve(g);
      const rs = await send(s, [{ x: 1 }, { x: 2 }, { x: 3 }]);
      expect(values(rs)).toEqual([1, 2, 3].map((x) => ({ tens: x * 10, ones: { x, y: x + 1 }, worker: x + 1 })));
      expect(Tens.calls).toHaveLength(1);
      expect(Tens.calls[0].input).toEqual([1, 2, 3]);
      expect(Tens.calls[0].batch).toEqual({ size: 3 });
    });
  }

  test('a single endpoint: each member gets its own result, at resultPath of its own body', async () => {
    const g = batchGraph(
      (r) =>
        r.addModel({
          endpointName: 'w',
          modelClass: ref('BatchEcho'),
          executionMechanism: 'process_pool',
          resultPath: 'out',
        }),
      { size: 2 },
    );
    const s = serve(g);
    expect(values(await send(s, [{ id: 'a' }, { id: 'b' }]))).toEqual([
      { id: 'a', out: { item: { id: 'a' }, size: 2 } },
      { id: 'b', out: { item: { id: 'b' }, size: 2 } },
    ]);
  });

  test('the selector is called once, with the batch event', async () => {
    const seen: Array<{ batch: unknown; body: unknown }> = [];
    class Sel extends ModelSelector {
      override select(event: Event, _a: readonly ModelEntry[]) {
        seen.push({ batch: event.batch?.size, body: event.body });
        return ['ones'];
      }
    }
    const g = batchGraph(
      (r) => {
        r.addModel({ endpointName: 'tens', modelClass: Tens, executionMechanism: 'naive' });
        r.addModel({ endpointName: 'ones', modelClass: Ones, executionMechanism: 'asyncio' });
      },
      { selector: new Sel(), size: 2 },
    );
    expect(values(await send(serve(g), [5, 6]))).toEqual([{ ones: 6 }, { ones: 7 }]);
    expect(seen).toEqual([{ batch: 2, body: [5, 6] }]);
    expect(Tens.calls).toHaveLength(0);
  });

  test('an array body that did not come from a Batch is an ordinary input', async () => {
    Tens.calls = [];
    const g = createGraph();
    g.to(
      new ModelRunnerStep({ name: 'runner' }).addModel({
        endpointName: 'ones',
        modelClass: Ones,
        executionMechanism: 'asyncio',
      }),
    ).respond();
    expect(await serve(g).test('/', [1, 2])).toEqual([1, 2]);
  });
});

describe('errors in a batch', () => {
  test('a wrong-length or non-array output: raiseException true fails every member with SG_ERR_MODEL_RUNNER', async () => {
    for (const shape of ['short', 'scalar']) {
      const g = batchGraph((r) => {
        r.addModel({ endpointName: 'tens', modelClass: Tens, executionMechanism: 'naive' });
        r.addModel({ endpointName: 'ones', modelClass: Ones, executionMechanism: 'asyncio', inputPath: 'n' });
      });
      const s = serve(g);
      const rs = await send(s, [{ n: 1, shape }, { n: 2 }, { n: 3 }]);
      for (const r of rs) {
        const err = (r as PromiseRejectedResult).reason as SgError;
        expect(err.code, shape).toBe('SG_ERR_MODEL_RUNNER');
        expect(err.details.codes).toEqual({ tens: 'SG_ERR_BATCH_SIZE_MISMATCH' });
        expect(err.cause).toMatchObject({ code: 'SG_ERR_BATCH_SIZE_MISMATCH', step: 'runner', endpoint: 'tens' });
        expect((err.cause as SgError).message).toContain('runner');
        expect((err.cause as SgError).message).toContain('tens');
      }
      // the server goes on
      expect(values(await send(s, [{ n: 1 }, { n: 2 }, { n: 3 }]))).toEqual(
        [1, 2, 3].map((n) => ({ tens: n * 10, ones: n + 1 })),
      );
    }
  });

  test('a wrong-length output: raiseException false gives every member the failure slot', async () => {
    const g = batchGraph(
      (r) => {
        r.addModel({ endpointName: 'tens', modelClass: Tens, executionMechanism: 'naive' });
        r.addModel({
          endpointName: 'w',
          modelClass: ref('BatchEcho'),
          executionMechanism: 'thread_pool',
          modelParameters: { wrong: true },
        });
      },
      { raiseException: false, size: 2 },
    );
    const rs = values(await send(serve(g), [{ n: 1 }, { n: 2 }])) as Array<
      Record<string, { error: string; code: string }>
    >;
    expect(rs.map((r) => r.tens)).toEqual([10, 20]);
    for (const r of rs) {
      expect(r.w.code).toBe('SG_ERR_BATCH_SIZE_MISMATCH');
      expect(r.w.error).toMatch(/^SgError: .*runner.*w/);
    }
  });

  for (const fullEvent of [false, true]) {
    test(`a per-item Error fails only that member; an SgError item keeps its code and status (fullEvent: ${fullEvent})`, async () => {
      const g = batchGraph((r) => r.addModel({ endpointName: 'tens', modelClass: Tens, executionMechanism: 'naive' }), {
        fullEvent,
        size: 4,
      });
      const rs = await send(serve(g), [{ n: 1 }, { n: 2, fail: 'error' }, { n: 3 }, { n: 4, fail: 'sg' }]);
      expect(values(rs)).toEqual([10, 'SG_ERR_MODEL_RUNNER', 30, 'SG_ERR_MODEL_RUNNER']);
      const e1 = (rs[1] as PromiseRejectedResult).reason as SgError;
      expect(e1).toMatchObject({
        endpoint: 'tens',
        details: { codes: { tens: 'SG_ERR_MODEL_FAILED' }, errors: { tens: 'RangeError: bad 2' } },
      });
      expect(e1.status).toBe(500);
      expect(((e1.cause as SgError).cause as Error).message).toBe('bad 2');
      const e3 = (rs[3] as PromiseRejectedResult).reason as SgError;
      expect(e3.details.codes).toEqual({ tens: 'SG_ERR_BAD_REQUEST' });
      expect(e3.status).toBe(400);
    });
  }

  test('per-item errors from a worker; raiseException false puts the failure slot in that member only', async () => {
    const g = batchGraph(
      (r) => {
        r.addModel({ endpointName: 'w', modelClass: ref('BatchEcho'), executionMechanism: 'process_pool' });
        r.addModel({ endpointName: 'tens', modelClass: Tens, executionMechanism: 'naive', inputPath: 'n' });
      },
      { raiseException: false },
    );
    const rs = values(await send(serve(g), [{ n: 1 }, { n: 2, id: 'x', fail: true }, { n: 3 }]));
    expect(rs).toEqual([
      { w: { item: { n: 1 }, size: 3 }, tens: 10 },
      { w: { error: 'RangeError: bad item x', code: 'SG_ERR_MODEL_FAILED' }, tens: 20 },
      { w: { item: { n: 3 }, size: 3 }, tens: 30 },
    ]);
  });

  test('a failing batch touches only its members', async () => {
    Tens.calls = [];
    const g = createGraph();
    const r = new ModelRunnerStep({ name: 'runner' }).addModel({
      endpointName: 'tens',
      modelClass: Tens,
      executionMechanism: 'naive',
      inputPath: 'n',
    });
    g.to(new Batch({ name: 'batch', maxEvents: 2, flushAfterSeconds: 5, key: 'group' }))
      .to(r)
      .respond();
    const s = serve(g);
    const rs = await Promise.allSettled([
      s.test('/', { group: 'bad', n: { n: 1, shape: 'short' } }),
      s.test('/', { group: 'good', n: 1 }),
      s.test('/', { group: 'bad', n: { n: 2 } }),
      s.test('/', { group: 'good', n: 2 }),
    ]);
    expect(values(rs)).toEqual(['SG_ERR_MODEL_RUNNER', 10, 'SG_ERR_MODEL_RUNNER', 20]);
  });

  test('monitoring records one call per member, with the batch size and the member ids', async () => {
    const g = batchGraph((r) => {
      r.addModel({ endpointName: 'tens', modelClass: Tens, executionMechanism: 'naive', inputPath: 'n' });
      r.addModel({ endpointName: 'ones', modelClass: Ones, executionMechanism: 'asyncio', inputPath: 'x' });
    });
    const s = serve(g);
    await send(s, [
      { n: 1, x: 1 },
      { n: { n: 2, fail: 'error' }, x: 2 },
      { n: 3, x: 3 },
    ]);
    const tens = await s.monitoring.calls('tens');
    expect(tens.map((c) => c.eventId).sort()).toEqual(['m0', 'm1', 'm2']);
    for (const c of tens) expect(c.batchSize).toBe(3);
    expect(tens.find((c) => c.eventId === 'm1')).toMatchObject({ outcome: 'error', errorCode: 'SG_ERR_MODEL_FAILED' });
    expect(tens.filter((c) => c.outcome === 'ok')).toHaveLength(2);
    expect(new Set(tens.map((c) => c.latencyMs)).size).toBe(1);
    expect(await s.monitoring.calls('ones')).toHaveLength(3);
  });
});
