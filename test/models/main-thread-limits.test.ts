import { describe, expect, test } from 'vitest';
import { Model, type ModelCallContext, type SgError } from '../../src/index.js';
import { deferred, rejectsSg, runnerGraph, serve, sleep, waitFor } from './helpers.js';

/** Waits `input.ms` (ignoring its signal unless `input.obey`), noting what its signal did. */
class Sleeper extends Model<{ ms: number; obey?: boolean; tag?: string }, unknown> {
  static started: string[] = [];
  static finished: string[] = [];
  static reasons: unknown[] = [];
  override async predictAsync(input: { ms: number; obey?: boolean; tag?: string }, ctx: ModelCallContext) {
    Sleeper.started.push(input.tag ?? '');
    ctx.signal.addEventListener('abort', () => Sleeper.reasons.push(ctx.signal.reason), { once: true });
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, input.ms);
      const stop = () => {
        clearTimeout(t);
        resolve();
      };
      if (input.obey) ctx.signal.addEventListener('abort', stop, { once: true });
    });
    Sleeper.finished.push(input.tag ?? '');
    return { late: input.tag };
  }
}

function reset() {
  Sleeper.started = [];
  Sleeper.finished = [];
  Sleeper.reasons = [];
}

describe('timeoutMs on the main thread', () => {
  test('fails the call at once with SG_ERR_MODEL_TIMEOUT, aborts ctx.signal, and ignores the late output', async () => {
    reset();
    for (const mech of ['naive', 'asyncio'] as const) {
      const { graph } = runnerGraph((r) =>
        r.addModel({ endpointName: 'slow', modelClass: Sleeper, executionMechanism: mech, timeoutMs: 100 }),
      );
      const s = serve(graph);
      await s.ready();
      const t0 = Date.now();
      const err = await rejectsSg(s.test('/', { ms: 1500, tag: mech }), 'SG_ERR_MODEL_RUNNER');
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(err.status).toBe(504);
      const cause = err.cause as SgError;
      expect(cause).toMatchObject({
        code: 'SG_ERR_MODEL_TIMEOUT',
        step: 'runner',
        endpoint: 'slow',
        details: { timeoutMs: 100 },
      });
      expect(cause.message).toContain('100');
      expect(Sleeper.reasons.at(-1)).toBe(cause);
      // the model runs on (it cannot be interrupted); its late output changes nothing
      await waitFor(() => Sleeper.finished.includes(mech), 5);
      expect(await s.test('/', { ms: 0, tag: 'next' })).toEqual({ late: 'next' });
      await s.close();
    }
  });

  test('a synchronous model that overran its timeoutMs fails too: its output is late', async () => {
    class Busy extends Model {
      override predict() {
        const until = Date.now() + 300;
        while (Date.now() < until) {}
        return 'late';
      }
    }
    const { graph } = runnerGraph(
      (r) => r.addModel({ endpointName: 'busy', modelClass: Busy, executionMechanism: 'naive', timeoutMs: 50 }),
      { raiseException: false },
    );
    expect(await serve(graph).test('/', {})).toMatchObject({ code: 'SG_ERR_MODEL_TIMEOUT' });
  });

  test('a call still waiting for a slot is just removed from the queue when its time is up', async () => {
    reset();
    const { graph } = runnerGraph(
      (r) =>
        r.addModel({
          endpointName: 'one',
          modelClass: Sleeper,
          executionMechanism: 'asyncio',
          timeoutMs: 150,
          maxConcurrentCalls: 1,
        }),
      { raiseException: false },
    );
    const s = serve(graph);
    await s.ready();
    const [a, b] = await Promise.all([s.test('/', { ms: 600, tag: 'a' }), s.test('/', { ms: 0, tag: 'b' })]);
    expect(a).toMatchObject({ code: 'SG_ERR_MODEL_TIMEOUT' });
    expect(b).toMatchObject({ code: 'SG_ERR_MODEL_TIMEOUT' });
    await waitFor(() => Sleeper.finished.includes('a'), 5);
    await sleep(50);
    expect(Sleeper.started).toEqual(['a']);
    expect(await s.test('/', { ms: 0, tag: 'c' })).toEqual({ late: 'c' });
    expect(Sleeper.started).toEqual(['a', 'c']);
  });

  test('a waiting call whose request is cancelled (server closing) leaves the queue and never starts', async () => {
    reset();
    const { graph } = runnerGraph((r) =>
      r.addModel({ endpointName: 'one', modelClass: Sleeper, executionMechanism: 'asyncio', maxConcurrentCalls: 1 }),
    );
    const s = serve(graph);
    await s.ready();
    const first = s.test('/', { ms: 400, tag: 'a' });
    const second = s.test('/', { ms: 0, tag: 'b' });
    await waitFor(() => Sleeper.started.length === 1);
    // the rejections are awaited from the start: close() resolves only after they have happened
    const rejected = Promise.all([rejectsSg(first, 'SG_ERR_SERVER_CLOSED'), rejectsSg(second, 'SG_ERR_SERVER_CLOSED')]);
    await s.close({ graceMs: 50 });
    await rejected;
    await waitFor(() => Sleeper.finished.includes('a'), 5);
    await sleep(20);
    expect(Sleeper.started).toEqual(['a']);
  });

  test('a model that obeys ctx.signal stops early; other events in flight are not disturbed', async () => {
    reset();
    const { graph } = runnerGraph((r) =>
      r.addModel({ endpointName: 's', modelClass: Sleeper, executionMechanism: 'asyncio', timeoutMs: 300 }),
    );
    const s = serve(graph);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => s.test('/', { ms: i % 2 === 0 ? 5000 : 10, obey: true, tag: String(i) })),
    );
    results.forEach((r, i) => {
      if (i % 2 === 0) expect(((r as PromiseRejectedResult).reason as SgError).code).toBe('SG_ERR_MODEL_RUNNER');
      else expect((r as PromiseFulfilledResult<unknown>).value).toEqual({ late: String(i) });
    });
    await waitFor(() => Sleeper.finished.length === 10, 2);
  });

  test('the signal aborts with SG_ERR_SERVER_CLOSED when the close grace period ends', async () => {
    reset();
    const { graph } = runnerGraph((r) =>
      r.addModel({ endpointName: 's', modelClass: Sleeper, executionMechanism: 'asyncio' }),
    );
    const s = serve(graph);
    await s.ready();
    const pending = s.test('/', { ms: 5000, obey: true, tag: 'x' });
    await waitFor(() => Sleeper.started.length === 1);
    const rejected = rejectsSg(pending, 'SG_ERR_SERVER_CLOSED');
    await s.close({ graceMs: 50 });
    await rejected;
    expect((Sleeper.reasons[0] as SgError).code).toBe('SG_ERR_SERVER_CLOSED');
  });
});

describe('maxConcurrentCalls on the main thread', () => {
  /** Each call waits for the test to release it; records how many ran at once and in which order they started. */
  function gated() {
    const gates = new Map<number, () => void>();
    const state = { running: 0, max: 0, order: [] as number[] };
    class Gated extends Model<{ i: number }, number> {
      override async predictAsync(input: { i: number }) {
        state.running++;
        state.max = Math.max(state.max, state.running);
        state.order.push(input.i);
        const d = deferred();
        gates.set(input.i, d.resolve);
        await d.promise;
        state.running--;
        return input.i;
      }
    }
    return { Gated, gates, state };
  }

  test('calls beyond the limit wait in FIFO order, in the order the runner issued them', async () => {
    const { Gated, gates, state } = gated();
    const { graph } = runnerGraph((r) =>
      r.addModel({ endpointName: 'g', modelClass: Gated, executionMechanism: 'asyncio', maxConcurrentCalls: 2 }),
    );
    const s = serve(graph);
    await s.ready();
    const replies = Array.from({ length: 6 }, (_, i) => s.test('/', { i }));
    await waitFor(() => state.order.length === 2);
    await sleep(20);
    expect(state.order).toEqual([0, 1]);
    // release the later one first: the next waiting call (2) takes its place, not any other
    gates.get(1)!();
    await waitFor(() => state.order.length === 3);
    expect(state.order).toEqual([0, 1, 2]);
    gates.get(0)!();
    await waitFor(() => state.order.length === 4);
    for (const i of [2, 3]) gates.get(i)!();
    await waitFor(() => state.order.length === 6);
    for (const i of [4, 5]) gates.get(i)!();
    expect(await Promise.all(replies)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(state.order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(state.max).toBe(2);
  });

  test('without maxConcurrentCalls there is no limit on the main thread', async () => {
    const { Gated, gates, state } = gated();
    const { graph } = runnerGraph((r) =>
      r.addModel({ endpointName: 'g', modelClass: Gated, executionMechanism: 'naive' }),
    );
    const s = serve(graph);
    await s.ready();
    const replies = Array.from({ length: 20 }, (_, i) => s.test('/', { i }));
    await waitFor(() => state.running === 20);
    for (const release of gates.values()) release();
    expect(await Promise.all(replies)).toHaveLength(20);
    expect(state.max).toBe(20);
  });

  test('a failing call frees its slot for the next one', async () => {
    class Fails extends Model<{ fail: boolean }, string> {
      override async predictAsync(input: { fail: boolean }) {
        await sleep(5);
        if (input.fail) throw new Error('x');
        return 'ok';
      }
    }
    const { graph } = runnerGraph(
      (r) => r.addModel({ endpointName: 'f', modelClass: Fails, executionMechanism: 'asyncio', maxConcurrentCalls: 1 }),
      { raiseException: false },
    );
    const s = serve(graph);
    const out = await Promise.all(Array.from({ length: 6 }, (_, i) => s.test('/', { fail: i % 2 === 0 })));
    expect(out.map((o) => (typeof o === 'string' ? o : (o as { code: string }).code))).toEqual([
      'SG_ERR_MODEL_FAILED',
      'ok',
      'SG_ERR_MODEL_FAILED',
      'ok',
      'SG_ERR_MODEL_FAILED',
      'ok',
    ]);
  });
});
