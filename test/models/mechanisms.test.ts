import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  createGraph,
  Model,
  type ModelCallContext,
  ModelRunnerStep,
  ModelSelector,
  type SgError,
} from '../../src/index.js';
import { mixedLoad } from '../support/core.js';
import { alive, lines, ref, rejectsSg, runnerGraph, serve, sleep, tempDir, waitFor } from './helpers.js';

type Where = { threadId: number; pid: number; endpoint: string; eventId: string; mechanism: string; input: unknown };

class MainWhere extends Model {
  override async predict(input: unknown, ctx: ModelCallContext) {
    return {
      threadId: 0,
      pid: process.pid,
      endpoint: ctx.endpointName,
      eventId: ctx.eventId,
      mechanism: this.executionMechanism,
      input,
    };
  }
}

describe('execution mechanisms for real (section 8)', () => {
  test('thread_pool runs in a worker thread, process_pool in a child, dedicated_process in a process of its own', async () => {
    const { graph } = runnerGraph((r) => {
      r.addModel({ endpointName: 'thread', modelClass: ref('Where'), executionMechanism: 'thread_pool' });
      r.addModel({ endpointName: 'pooled', modelClass: ref('Where'), executionMechanism: 'process_pool' });
      r.addModel({ endpointName: 'pooled2', modelClass: ref('Where'), executionMechanism: 'process_pool' });
      r.addModel({ endpointName: 'own', modelClass: ref('Where'), executionMechanism: 'dedicated_process' });
    });
    const out = (await serve(graph).test('/', {})) as Record<string, Where>;
    expect(out.thread.threadId).not.toBe(0);
    expect(out.thread.pid).toBe(process.pid);
    expect(out.pooled.pid).not.toBe(process.pid);
    expect(out.pooled.threadId).toBe(0);
    expect(out.own.pid).not.toBe(process.pid);
    expect(out.own.pid).not.toBe(out.pooled.pid);
    expect(out.own.pid).not.toBe(out.pooled2.pid);
    for (const [k, mech] of [
      ['thread', 'thread_pool'],
      ['pooled', 'process_pool'],
      ['own', 'dedicated_process'],
    ])
      expect(out[k].mechanism).toBe(mech);
  });

  test('every mechanism in one step, on the same events, many events at once', async () => {
    const g = createGraph();
    g.addSharedModel({ name: 'shared-where', modelClass: ref('Where'), executionMechanism: 'thread_pool' });
    const r = new ModelRunnerStep({ name: 'runner' });
    r.addModel({ endpointName: 'naive', modelClass: MainWhere, executionMechanism: 'naive', inputPath: 'x' });
    r.addModel({ endpointName: 'asyncio', modelClass: MainWhere, executionMechanism: 'asyncio', inputPath: 'x' });
    r.addModel({ endpointName: 'thread', modelClass: ref('Where'), executionMechanism: 'thread_pool' });
    r.addModel({ endpointName: 'process', modelClass: ref('Where'), executionMechanism: 'process_pool' });
    r.addModel({ endpointName: 'dedicated', modelClass: ref('Where'), executionMechanism: 'dedicated_process' });
    r.addSharedModelProxy({ endpointName: 'proxy', sharedModelName: 'shared-where' });
    g.to(r).respond();
    const s = serve(g);
    const ids = Array.from({ length: 12 }, (_, i) => `ev-${i}`);
    const replies = (await Promise.all(ids.map((id, i) => s.test('/', { x: i }, { id })))) as Array<
      Record<string, Where>
    >;
    replies.forEach((out, i) => {
      expect(Object.keys(out)).toEqual(['naive', 'asyncio', 'thread', 'process', 'dedicated', 'proxy']);
      for (const [name, w] of Object.entries(out)) {
        expect(w.eventId, name).toBe(`ev-${i}`);
        expect(w.endpoint, name).toBe(name);
      }
      expect(out.naive.input).toBe(i);
      expect(out.asyncio.input).toBe(i);
      expect(out.thread.threadId).not.toBe(0);
      expect(out.proxy.threadId).not.toBe(0);
      expect(out.proxy.threadId).not.toBe(out.thread.threadId);
      expect(out.process.pid).not.toBe(process.pid);
      expect(out.dedicated.pid).not.toBe(process.pid);
      expect(out.dedicated.pid).not.toBe(out.process.pid);
      expect(out.proxy.mechanism).toBe('thread_pool');
    });
  });

  test('naive models are called one after another in selection order; asyncio calls of an event start together', async () => {
    const order: string[] = [];
    let inFlight = 0;
    let together = 0;
    class Naive extends Model {
      override predict(_i: unknown, ctx: ModelCallContext) {
        order.push(ctx.endpointName);
        return ctx.endpointName;
      }
    }
    class Async extends Model {
      override async predictAsync(_i: unknown, ctx: ModelCallContext) {
        inFlight++;
        together = Math.max(together, inFlight);
        await sleep(50);
        inFlight--;
        return ctx.endpointName;
      }
    }
    const { graph } = runnerGraph(
      (r) => {
        for (const n of ['n1', 'n2', 'n3'])
          r.addModel({ endpointName: n, modelClass: Naive, executionMechanism: 'naive' });
        for (const n of ['a1', 'a2', 'a3'])
          r.addModel({ endpointName: n, modelClass: Async, executionMechanism: 'asyncio' });
      },
      {
        modelSelector: new (class extends ModelSelector {
          override select() {
            return ['a1', 'n3', 'a2', 'n1', 'a3', 'n2'];
          }
        })(),
      },
    );
    const t0 = Date.now();
    expect(Object.keys((await serve(graph).test('/', {})) as object)).toEqual(['a1', 'n3', 'a2', 'n1', 'a3', 'n2']);
    expect(order).toEqual(['n3', 'n1', 'n2']);
    expect(together).toBe(3);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  test('a worker model failing on some events leaves the others in flight untouched', async () => {
    const { graph } = runnerGraph((r) =>
      r.addModel({ endpointName: 't', modelClass: ref('Thrower'), executionMechanism: 'process_pool' }),
    );
    const s = serve(graph);
    await mixedLoad(
      s,
      24,
      (i) => ({ kind: i % 3 === 0 ? 'type' : 'none' }),
      (i) => i % 3 === 0,
      'SG_ERR_MODEL_RUNNER',
      () => 'fine',
    );
  });

  test('the main thread never constructs or loads a model that runs in a worker', async () => {
    const log = join(tempDir(), 'loads.log');
    const { graph } = runnerGraph((r) => {
      for (const mech of ['thread_pool', 'process_pool', 'dedicated_process'] as const) {
        r.addModel({
          endpointName: mech,
          modelClass: ref('AddN'),
          executionMechanism: mech,
          modelParameters: { loadLog: log },
        });
      }
    });
    const s = serve(graph);
    await s.test('/', 1);
    const mainThreadLoads = lines(log).filter((l) => l.endsWith(`:${process.pid}:0`));
    expect(mainThreadLoads).toEqual([]);
    expect(lines(log)).toHaveLength(3);
  });

  test('a worker killed mid-call fails that call with SG_ERR_WORKER_DIED naming the endpoint; other calls and later events go on', async () => {
    for (const [mech, die] of [
      ['process_pool', 'kill'],
      ['dedicated_process', 'exit'],
      ['thread_pool', 'exit'],
    ] as const) {
      const { graph } = runnerGraph((r) => {
        r.addModel({ endpointName: 'mortal', modelClass: ref('Mortal'), executionMechanism: mech });
        r.addModel({ endpointName: 'main', modelClass: MainWhere, executionMechanism: 'asyncio' });
      });
      const s = serve(graph);
      const first = (await s.test('/', {})) as Record<string, { pid: number }>;
      const [dying, ...others] = await Promise.allSettled([
        s.test('/', { die }),
        s.test('/', { ms: 20 }),
        s.test('/', { ms: 20 }),
      ]);
      expect(dying.status, mech).toBe('rejected');
      const err = (dying as PromiseRejectedResult).reason as SgError;
      expect(err.code, mech).toBe('SG_ERR_MODEL_RUNNER');
      expect(err.endpoint, mech).toBe('mortal');
      expect(err.details.codes, mech).toEqual({ mortal: 'SG_ERR_WORKER_DIED' });
      const cause = err.cause as SgError;
      expect(cause).toMatchObject({ code: 'SG_ERR_WORKER_DIED', step: 'runner', endpoint: 'mortal' });
      expect(cause.message).toMatch(die === 'kill' ? /SIGKILL/ : /\b7\b/);
      // calls queued behind the dying one run on the replacement
      for (const o of others) expect(o.status, mech).toBe('fulfilled');
      const later = (await s.test('/', {})) as Record<string, { pid: number }>;
      expect(later.main.pid).toBe(process.pid);
      if (mech !== 'thread_pool') expect(later.mortal.pid, mech).not.toBe(first.mortal.pid);
      if (mech !== 'thread_pool') expect(alive(first.mortal.pid)).toBe(false);
      await s.close();
    }
  });

  test('with raiseException: false a dead worker gives a failure slot', async () => {
    const { graph } = runnerGraph(
      (r) => r.addModel({ endpointName: 'mortal', modelClass: ref('Mortal'), executionMechanism: 'process_pool' }),
      { raiseException: false },
    );
    const s = serve(graph);
    const slot = (await s.test('/', { die: 'exit' })) as { error: string; code: string };
    expect(slot.code).toBe('SG_ERR_WORKER_DIED');
    expect(slot.error).toMatch(/^SgError: /);
    expect(await s.test('/', {})).toMatchObject({ pid: expect.any(Number) });
  });

  test('timeoutMs in a worker fails the call at once with SG_ERR_MODEL_TIMEOUT; the pool keeps serving', async () => {
    const { graph } = runnerGraph((r) =>
      r.addModel({
        endpointName: 'slow',
        modelClass: ref('Mortal'),
        executionMechanism: 'thread_pool',
        timeoutMs: 200,
      }),
    );
    const s = serve(graph);
    await s.ready();
    const t0 = Date.now();
    const err = await rejectsSg(s.test('/', { ms: 10_000 }), 'SG_ERR_MODEL_RUNNER');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(err.cause).toMatchObject({ code: 'SG_ERR_MODEL_TIMEOUT', endpoint: 'slow', details: { timeoutMs: 200 } });
    expect(err.status).toBe(504);
    // the worker still busy with the call 1 s later is replaced; then calls succeed again
    let answer: unknown;
    for (const until = Date.now() + 5000; answer === undefined && Date.now() < until; await sleep(100)) {
      answer = await s.test('/', {}).catch(() => undefined);
    }
    expect(answer).toMatchObject({ threadId: expect.any(Number) });
  });

  test("a pool's full queue fails the call at once with SG_ERR_OVERLOADED (429); the others are served", async () => {
    const { graph, runner } = runnerGraph((r) =>
      r.addModel({ endpointName: 'slow', modelClass: ref('Mortal'), executionMechanism: 'process_pool' }),
    );
    runner.configurePoolResource({ maxQueue: 1 });
    const s = serve(graph);
    await s.ready();
    const rs = await Promise.allSettled(Array.from({ length: 5 }, () => s.test('/', { ms: 300 })));
    const ok = rs.filter((r) => r.status === 'fulfilled');
    const failed = rs.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as SgError);
    expect(ok).toHaveLength(2);
    expect(failed).toHaveLength(3);
    for (const err of failed) {
      expect(err.code).toBe('SG_ERR_MODEL_RUNNER');
      expect(err.details.codes).toEqual({ slow: 'SG_ERR_OVERLOADED' });
      expect(err.status).toBe(429);
    }
    expect(await s.test('/', {})).toMatchObject({ pid: expect.any(Number) });
  });

  test('a worker whose replacement cannot load: later calls fail at once with SG_ERR_MODEL_UNAVAILABLE', async () => {
    const marker = join(tempDir(), 'marker');
    const { graph } = runnerGraph(
      (r) => {
        r.addModel({
          endpointName: 'once',
          modelClass: ref('LoadsOnce'),
          executionMechanism: 'thread_pool',
          modelParameters: { marker },
        });
        r.addModel({ endpointName: 'main', modelClass: MainWhere, executionMechanism: 'naive' });
      },
      { raiseException: false },
    );
    const s = serve(graph);
    expect(await s.test('/', {})).toMatchObject({ once: 'ok' });
    expect(((await s.test('/', { exit: true })) as Record<string, { code: string }>).once.code).toBe(
      'SG_ERR_WORKER_DIED',
    );
    let code: string | undefined;
    for (
      const until = Date.now() + 10_000;
      code !== 'SG_ERR_MODEL_UNAVAILABLE' && Date.now() < until;
      await sleep(100)
    ) {
      const out = (await s.test('/', {})) as Record<string, { code?: string; pid?: number }>;
      code = out.once.code;
      expect(out.main.pid).toBe(process.pid);
    }
    expect(code).toBe('SG_ERR_MODEL_UNAVAILABLE');
  });

  test('an output that cannot leave its worker fails that call with SG_ERR_NOT_CLONEABLE (direction out)', async () => {
    const { graph } = runnerGraph((r) =>
      r.addModel({ endpointName: 'u', modelClass: ref('Uncloneable'), executionMechanism: 'thread_pool' }),
    );
    const s = serve(graph);
    const err = await rejectsSg(s.test('/', {}), 'SG_ERR_MODEL_RUNNER');
    expect(err.cause).toMatchObject({
      code: 'SG_ERR_NOT_CLONEABLE',
      endpoint: 'u',
      step: 'runner',
      details: { direction: 'out' },
    });
  });

  test('closing the server leaves no child process alive', async () => {
    const g = createGraph();
    g.addSharedModel({ name: 'shared-proc', modelClass: ref('Mortal'), executionMechanism: 'process_pool' });
    g.addSharedModel({ name: 'shared-own', modelClass: ref('Mortal'), executionMechanism: 'dedicated_process' });
    const r = new ModelRunnerStep({ name: 'runner' });
    r.addModel({ endpointName: 'a', modelClass: ref('Mortal'), executionMechanism: 'process_pool' });
    r.addModel({ endpointName: 'b', modelClass: ref('Mortal'), executionMechanism: 'process_pool' });
    r.addModel({ endpointName: 'c', modelClass: ref('Mortal'), executionMechanism: 'dedicated_process' });
    r.addSharedModelProxy({ endpointName: 'd', sharedModelName: 'shared-proc' });
    r.addSharedModelProxy({ endpointName: 'e', sharedModelName: 'shared-own' });
    r.configurePoolResource({ poolFactor: 1, maxProcesses: 2 });
    g.to(r).respond();
    const s = serve(g);
    const pids = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const out = (await s.test('/', {})) as Record<string, { pid: number }>;
      for (const v of Object.values(out)) pids.add(v.pid);
    }
    expect(pids.size).toBeGreaterThanOrEqual(4);
    for (const pid of pids) expect(alive(pid)).toBe(true);
    await s.close();
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
  });

  test('a graph served again after close runs the same, with fresh workers', async () => {
    const g = createGraph();
    g.addSharedModel({ name: 'shared', modelClass: ref('Mortal'), executionMechanism: 'process_pool' });
    const r = new ModelRunnerStep({ name: 'runner' });
    r.addModel({ endpointName: 'proc', modelClass: ref('Mortal'), executionMechanism: 'process_pool' });
    r.addModel({ endpointName: 'main', modelClass: MainWhere, executionMechanism: 'naive' });
    r.addSharedModelProxy({ endpointName: 'proxy', sharedModelName: 'shared' });
    g.to(r).respond();
    const pids: number[] = [];
    for (let round = 0; round < 2; round++) {
      const s = serve(g);
      const out = (await s.test('/', {})) as Record<string, { pid: number }>;
      expect(out.main.pid).toBe(process.pid);
      pids.push(out.proc.pid, out.proxy.pid);
      await s.close();
    }
    expect(new Set(pids).size).toBe(4);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  test('a start-up failure stops every child already started', async () => {
    const { graph } = runnerGraph((r) => {
      r.addModel({ endpointName: 'ok', modelClass: ref('Mortal'), executionMechanism: 'dedicated_process' });
      r.addModel({ endpointName: 'bad', modelClass: ref('LoadFails'), executionMechanism: 'process_pool' });
    });
    const before = childPids();
    const s = serve(graph);
    await rejectsSg(s.ready(), 'SG_ERR_MODEL_LOAD');
    await waitFor(() => childPids().every((p) => before.includes(p)), 5);
  });

  test('a call in flight at close finishes within the grace period; later calls are refused', async () => {
    const { graph } = runnerGraph((r) =>
      r.addModel({ endpointName: 'slow', modelClass: ref('Mortal'), executionMechanism: 'process_pool' }),
    );
    const s = serve(graph);
    await s.ready();
    const inFlight = s.test('/', { ms: 300 });
    await sleep(50);
    const closing = s.close({ graceMs: 5000 });
    await rejectsSg(s.test('/', {}), 'SG_ERR_SERVER_CLOSED');
    expect(await inFlight).toMatchObject({ pid: expect.any(Number) });
    await closing;
  });
});

/** Pids of this process's children (Linux /proc). */
function childPids(): number[] {
  try {
    return readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
