import { afterEach, describe, expect, test } from 'vitest';
import { SgError } from '../../src/errors/index.js';
import { alive, call, closeAll, KINDS, makePool, rejection, spec, tempDir, until } from './helpers.js';

/** What fails a call, and only that call (model-runner.md sections 6 and 8). */

afterEach(closeAll);

type Where = { threadId: number; pid: number };

describe.each(KINDS)('%s pool', (kind) => {
  const workerId = (r: Where): number => (kind === 'thread' ? r.threadId : r.pid);

  test('a model that throws fails its call with SG_ERR_MODEL_FAILED and the rebuilt cause; the worker keeps serving', async () => {
    const pool = makePool(kind, [spec('thrower', 'failing.mjs', 'ThrowingModel')]);
    await pool.start();
    const e = await rejection(call(pool, 'thrower', { kind: 'type' }), 'SG_ERR_MODEL_FAILED');
    expect(e.endpoint).toBe('thrower');
    expect(e.step).toBe('runner');
    expect(e.message).toContain('TypeError: boom');
    expect(e.cause).toBeInstanceOf(TypeError);
    expect((e.cause as Error).message).toBe('boom');
    expect((e.cause as Error).stack).toContain('failing.mjs');

    const custom = await rejection(call(pool, 'thrower', { kind: 'custom' }), 'SG_ERR_MODEL_FAILED');
    expect((custom.cause as Error).name).toBe('CustomError');
    expect(custom.cause).not.toHaveProperty('extra');
    const value = await rejection(call(pool, 'thrower', { kind: 'value' }), 'SG_ERR_MODEL_FAILED');
    expect(value.cause).toBe('a plain string');
    const rejected = await rejection(call(pool, 'thrower', { kind: 'reject' }), 'SG_ERR_MODEL_FAILED');
    expect(rejected.cause).toBeInstanceOf(RangeError);
    expect(await call(pool, 'thrower', { kind: 'none' })).toBe('fine');
  });

  test('a thrown SgError keeps its code, details, cause and status; endpoint and step are filled in', async () => {
    const pool = makePool(kind, [spec('thrower', 'failing.mjs', 'ThrowingModel')]);
    await pool.start();
    const e = await rejection(call(pool, 'thrower', { kind: 'sg' }), 'SG_ERR_QUOTA_EXCEEDED');
    expect(e.message).toBe('tenant acme used its 1000 calls today');
    expect(e.details).toEqual({ tenant: 'acme', limit: 1000 });
    expect(e.endpoint).toBe('thrower');
    expect(e.step).toBe('runner');
    expect(e.status).toBe(500);
    expect(e.cause).toBeInstanceOf(RangeError);
    const bad = await rejection(call(pool, 'thrower', { kind: 'sg-400' }), 'SG_ERR_BAD_REQUEST');
    expect(bad.status).toBe(400);
    expect(bad.details).toEqual({ field: 'q' });
    const placed = await rejection(call(pool, 'thrower', { kind: 'sg-placed' }), 'SG_ERR_BAD_REQUEST');
    expect([placed.step, placed.endpoint]).toEqual(['other', 'elsewhere']);
    const noDetails = await rejection(call(pool, 'thrower', { kind: 'sg-bad-details' }), 'SG_ERR_QUOTA_EXCEEDED');
    expect(noDetails.details).toEqual({});
  });

  test('an input that cannot be cloned fails only that call (direction in)', async () => {
    const pool = makePool(kind, [spec('echo', 'basic.mjs', 'NoopModel')]);
    await pool.start();
    const e = await rejection(call(pool, 'echo', { a: { f: () => 1 } }), 'SG_ERR_NOT_CLONEABLE');
    expect(e.details.direction).toBe('in');
    expect(e.details.type).toMatch(/function/);
    expect(e.message).toContain('input.a.f');
    expect(e.endpoint).toBe('echo');
    for (const bad of [{ p: Promise.resolve() }, { w: new WeakMap() }, { s: Symbol('s') }]) {
      const err = await rejection(call(pool, 'echo', bad), 'SG_ERR_NOT_CLONEABLE');
      expect(err.details.direction).toBe('in');
    }
    expect(await call(pool, 'echo', { ok: 1 })).toEqual({ ok: 1 });
    expect(pool.queueDepth).toBe(0);
  });

  test('an output that cannot be cloned fails only that call (direction out); the worker keeps serving', async () => {
    const pool = makePool(kind, [spec('out', 'basic.mjs', 'OutputModel')]);
    await pool.start();
    const e = await rejection(call(pool, 'out', { kind: 'fn' }), 'SG_ERR_NOT_CLONEABLE');
    expect(e.details).toMatchObject({ direction: 'out', type: 'a function (namedFn)', path: 'output.a.f' });
    expect(e.endpoint).toBe('out');
    const p = await rejection(call(pool, 'out', { kind: 'promise-inside' }), 'SG_ERR_NOT_CLONEABLE');
    expect(p.details.type).toBe('a Promise');
    expect(await call(pool, 'out', { kind: 'plain', v: 1 })).toEqual({ kind: 'plain', v: 1 });
  });

  test('a ctx artifact that cannot be rebuilt fails only that call', async () => {
    const pool = makePool(kind, [spec('echo', 'basic.mjs', 'EchoModel')]);
    await pool.start();
    const bad = pool.call({
      model: 'echo',
      input: 1,
      ctx: { endpointName: 'echo', step: 'runner', eventId: 'e', path: '/', artifact: { key: 'bad key!' } },
    });
    await rejection(bad, 'SG_ERR_MODEL_ARTIFACT_INVALID');
    expect(await call(pool, 'echo', 2)).toHaveProperty('input', 2);
  });

  test('predict returning an async iterable fails with SG_ERR_STREAM_UNDECLARED', async () => {
    const pool = makePool(kind, [spec('out', 'basic.mjs', 'OutputModel')]);
    await pool.start();
    const e = await rejection(call(pool, 'out', { kind: 'iter' }), 'SG_ERR_STREAM_UNDECLARED');
    expect(e.message).toContain('predictStream');
    await rejection(call(pool, 'out', { kind: 'async-iter' }), 'SG_ERR_STREAM_UNDECLARED');
  });

  test('timeout of a running call: fails at once, ctx.signal aborts with it, the worker stays when it answers', async () => {
    const pool = makePool(kind, [spec('c', 'basic.mjs', 'CancelAwareModel')]);
    await pool.start();
    const e = await rejection(call(pool, 'c', {}, { timeoutMs: 100 }), 'SG_ERR_MODEL_TIMEOUT');
    expect(e.endpoint).toBe('c');
    expect(e.details.timeoutMs).toBe(100);
    const seen = (await call(pool, 'c', { report: true })) as Record<string, unknown>;
    expect(seen).toMatchObject({ aborted: true, code: 'SG_ERR_MODEL_TIMEOUT', isError: true });
  });

  test('timeout of a stuck call: the worker still busy 1 s later is terminated and replaced', async () => {
    const pool = makePool(kind, [spec('s', 'basic.mjs', 'StuckModel')]);
    await pool.start();
    const before = (await call(pool, 's', {})) as Where;
    const started = Date.now();
    await rejection(call(pool, 's', { spin: true }, { timeoutMs: 100 }), 'SG_ERR_MODEL_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2000);
    // the next call waits for the replacement
    const after = (await call(pool, 's', {})) as Where;
    expect(workerId(after)).not.toBe(workerId(before));
    if (kind === 'process') await until(() => !alive(before.pid));
  });

  test('timeout counts queue time: a queued call is removed from the queue', async () => {
    const pool = makePool(kind, [spec('s', 'basic.mjs', 'StuckModel')]);
    await pool.start();
    const before = (await call(pool, 's', {})) as Where;
    const long = call(pool, 's', { ms: 1500 });
    const queued = call(pool, 's', {}, { timeoutMs: 100 });
    expect(pool.queueDepth).toBe(1);
    const e = await rejection(queued, 'SG_ERR_MODEL_TIMEOUT');
    expect(e.endpoint).toBe('s');
    expect(pool.queueDepth).toBe(0);
    expect(workerId((await long) as Where)).toBe(workerId(before));
  });

  test('an aborted signal fails the call with its reason and reaches ctx.signal', async () => {
    const pool = makePool(kind, [spec('c', 'basic.mjs', 'CancelAwareModel')]);
    await pool.start();
    const ac = new AbortController();
    const p = call(pool, 'c', {}, { signal: ac.signal });
    const reason = new SgError('SG_ERR_CLIENT_CLOSED', 'the client went away');
    setTimeout(() => ac.abort(reason), 50);
    await expect(p).rejects.toBe(reason);
    const seen = (await call(pool, 'c', { report: true })) as Record<string, unknown>;
    expect(seen).toMatchObject({ code: 'SG_ERR_CLIENT_CLOSED', message: 'the client went away', isError: true });
    // already aborted: fails at once
    await expect(call(pool, 'c', {}, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  test('queue full: one more call fails at once with SG_ERR_OVERLOADED', async () => {
    const pool = makePool(kind, [spec('c', 'basic.mjs', 'CancelAwareModel')], { maxQueue: 2 });
    await pool.start();
    const ac = new AbortController();
    const held = [1, 2, 3].map(() => call(pool, 'c', {}, { signal: ac.signal }).catch((e) => e));
    expect(pool.queueDepth).toBe(2);
    const e = await rejection(call(pool, 'c', {}), 'SG_ERR_OVERLOADED');
    expect(e.status).toBe(429);
    expect(e.details.maxQueue).toBe(2);
    ac.abort(new Error('stop'));
    await Promise.all(held);
    expect(pool.queueDepth).toBe(0);
  });

  test('a worker that exits mid-call fails exactly its calls; a replacement serves later and queued calls', async () => {
    const pool = makePool(kind, [spec('x', 'basic.mjs', 'CrashModel')], { size: 2 });
    await pool.start();
    const dying = call(pool, 'x', { how: 'exit' });
    const other = call(pool, 'x', { how: 'slow', ms: 300 });
    const e = await rejection(dying, 'SG_ERR_WORKER_DIED');
    expect(e.message).toContain('exit code 3');
    expect(e.endpoint).toBe('x');
    expect(e.step).toBe('runner');
    expect(((await other) as { slow: boolean }).slow).toBe(true);
    await until(() => pool.aliveWorkers === 2);
    expect(await call(pool, 'x', {})).toHaveProperty('pid');
  });

  test('queued calls wait for the replacement of a dead worker', async () => {
    const pool = makePool(kind, [spec('x', 'basic.mjs', 'CrashModel')]);
    await pool.start();
    const first = (await call(pool, 'x', {})) as Where;
    const dying = call(pool, 'x', { how: 'exit' });
    const queued = [call(pool, 'x', {}), call(pool, 'x', {})];
    await rejection(dying, 'SG_ERR_WORKER_DIED');
    const rs = (await Promise.all(queued)) as Where[];
    for (const r of rs) expect(workerId(r)).not.toBe(workerId(first));
  });

  test('an uncaught error in the worker fails its call with SG_ERR_WORKER_DIED', async () => {
    const pool = makePool(kind, [spec('x', 'basic.mjs', 'CrashModel')]);
    await pool.start();
    const e = await rejection(call(pool, 'x', { how: 'uncaught' }), 'SG_ERR_WORKER_DIED');
    expect(e.message).toContain('exit code 1');
    if (kind === 'thread') expect(e.message).toContain('uncaught in the worker');
    expect(await call(pool, 'x', {})).toHaveProperty('pid');
  });

  test('a replacement that fails 3 times in a row gives its slot up: SG_ERR_MODEL_UNAVAILABLE', async () => {
    const tmp = tempDir();
    try {
      const pool = makePool(kind, [
        spec('once', 'failing.mjs', 'LoadsOnceModel', { modelParameters: { marker: tmp.file('m') } }),
      ]);
      await pool.start();
      const dying = call(pool, 'once', { exit: true });
      const queued = call(pool, 'once', {});
      await rejection(dying, 'SG_ERR_WORKER_DIED');
      const e = await rejection(queued, 'SG_ERR_MODEL_UNAVAILABLE');
      expect(e.endpoint).toBe('once');
      expect(pool.aliveWorkers).toBe(0);
      await rejection(call(pool, 'once', {}), 'SG_ERR_MODEL_UNAVAILABLE');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('process pool only', () => {
  test('a child killed with SIGKILL mid-call fails its call with the signal named', async () => {
    const pool = makePool('process', [spec('x', 'basic.mjs', 'CrashModel')]);
    await pool.start();
    const e = await rejection(call(pool, 'x', { how: 'kill' }), 'SG_ERR_WORKER_DIED');
    expect(e.message).toContain('SIGKILL');
    expect(e.details.signal).toBe('SIGKILL');
    expect(await call(pool, 'x', {})).toHaveProperty('pid');
  });

  test('a dedicated process is a one-process pool', async () => {
    const pool = makePool('process', [spec('echo', 'basic.mjs', 'EchoModel')], {
      name: 'runner/echo',
      mechanism: 'dedicated_process',
    });
    await pool.start();
    const r = (await call(pool, 'echo', 1)) as { mechanism: string; pid: number };
    expect(r.mechanism).toBe('dedicated_process');
    expect(r.pid).not.toBe(process.pid);
  });
});
