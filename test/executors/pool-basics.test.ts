import { threadId } from 'node:worker_threads';
import { afterEach, describe, expect, test } from 'vitest';
import { call, closeAll, KINDS, makePool, silent, spec, tempDir } from './helpers.js';

/** WorkerPool basics with real threads and processes (model-runner.md section 8). */

afterEach(closeAll);

type Where = { threadId: number; pid: number };

describe.each(KINDS)('%s pool', (kind) => {
  const workerId = (r: Where): number => (kind === 'thread' ? r.threadId : r.pid);

  test('runs the model in another thread or process', async () => {
    const pool = makePool(kind, [spec('echo', 'basic.mjs', 'EchoModel')]);
    await pool.start();
    const r = (await call(pool, 'echo', { x: 1 })) as Where & { input: unknown };
    expect(r.input).toEqual({ x: 1 });
    if (kind === 'thread') {
      expect(r.threadId).not.toBe(threadId);
      expect(r.pid).toBe(process.pid);
    } else {
      expect(r.pid).not.toBe(process.pid);
    }
  });

  test('a 2-worker pool really uses 2 workers', async () => {
    const pool = makePool(kind, [spec('c', 'basic.mjs', 'ConcurrencyModel')], { size: 2 });
    await pool.start();
    expect(pool.aliveWorkers).toBe(2);
    // each copy takes one call at a time: two calls at once must be on two workers
    const rs = (await Promise.all([call(pool, 'c', { ms: 50 }), call(pool, 'c', { ms: 50 })])) as Where[];
    expect(new Set(rs.map(workerId)).size).toBe(2);
  });

  test('every worker loads every model once, at start-up, never per call', async () => {
    const tmp = tempDir();
    try {
      const loadLog = tmp.file('loads');
      const pool = makePool(
        kind,
        [
          spec('a', 'basic.mjs', 'EchoModel', { modelParameters: { loadLog } }),
          spec('b', 'basic.mjs', 'EchoModel', { modelParameters: { loadLog } }),
        ],
        { size: 2 },
      );
      const reports: { model: string; worker: number }[] = [];
      await pool.start((p) => reports.push(p));
      expect(tmp.lines('loads')).toHaveLength(4);
      expect(reports).toHaveLength(4);
      expect(new Set(reports.map((r) => `${r.model}@${r.worker}`))).toEqual(new Set(['a@0', 'b@0', 'a@1', 'b@1']));
      const rs = (await Promise.all(Array.from({ length: 12 }, (_, i) => call(pool, i % 2 ? 'a' : 'b', i)))) as {
        loads: number;
      }[];
      expect(rs.every((r) => r.loads === 1)).toBe(true);
      expect(tmp.lines('loads')).toHaveLength(4);
    } finally {
      tmp.cleanup();
    }
  });

  test('the model gets its options, artifact and ctx', async () => {
    const artifact = { kind: 'model', formatVersion: 1, key: 'travel-v1', modelFile: '/models/t.bin' };
    const pool = makePool(kind, [
      spec('echo', 'basic.mjs', 'EchoModel', { modelParameters: { currency: 'EUR' }, modelArtifact: artifact }),
    ]);
    await pool.start();
    const r = (await pool.call({
      model: 'echo',
      input: { days: 3 },
      ctx: {
        endpointName: 'proxy-a',
        step: 'runner',
        eventId: 'ev-42',
        path: '/predict',
        batch: { size: 2 },
        trace: { traceparent: '00-abc-def-01' },
        artifact: { key: 'prompt-v2' },
      },
    })) as Record<string, unknown>;
    expect(r.params).toEqual({ currency: 'EUR' });
    expect(r.artifactKey).toBe('travel-v1');
    expect(r.artifactIsInstance).toBe('ModelArtifact');
    expect(r.mechanism).toBe(kind === 'thread' ? 'thread_pool' : 'process_pool');
    expect(r.ctx).toEqual({
      endpointName: 'proxy-a',
      step: 'runner',
      eventId: 'ev-42',
      path: '/predict',
      batch: { size: 2 },
      trace: { traceparent: '00-abc-def-01' },
      artifactKey: 'prompt-v2',
      aborted: false,
    });
  });

  test('predict is preferred; predictAsync is the fallback', async () => {
    const pool = makePool(kind, [spec('async', 'basic.mjs', 'AsyncOnlyModel'), spec('both', 'basic.mjs', 'BothModel')]);
    await pool.start();
    expect(await call(pool, 'async', 7)).toEqual({ via: 'predictAsync', input: 7 });
    expect(await call(pool, 'both', null)).toBe('predict');
  });

  test('data crosses by structured clone', async () => {
    const pool = makePool(kind, [spec('out', 'basic.mjs', 'OutputModel')]);
    await pool.start();
    const r = (await call(pool, 'out', { kind: 'rich' })) as Record<string, unknown>;
    expect(r.date).toEqual(new Date(0));
    expect(r.map).toEqual(new Map([['a', 1]]));
    expect(r.set).toEqual(new Set([1]));
    expect(r.big).toBe(10n);
    expect(r.bytes).toEqual(new Uint8Array([1, 2]));
    expect(r.err).toBeInstanceOf(TypeError);
    expect(Object.getPrototypeOf(r.inst)).toBe(Object.prototype);
    expect(r.inst).toEqual({ x: 1 });
    const shared = { n: 1 };
    const cyclic: Record<string, unknown> = { a: shared, b: shared };
    cyclic.self = cyclic;
    const back = (await call(pool, 'out', cyclic)) as Record<string, unknown>;
    expect(back.self).toBe(back);
    expect(back.a).toBe(back.b);
    // a Buffer: a Uint8Array through a thread, a Buffer through a process (model-runner.md section 8)
    const buf = (await call(pool, 'out', Buffer.from('hi'))) as Uint8Array;
    expect(Buffer.from(buf).toString()).toBe('hi');
    expect(Buffer.isBuffer(buf)).toBe(kind === 'process');
  });

  test('calls of one model are served in FIFO order', async () => {
    const pool = makePool(kind, [spec('c', 'basic.mjs', 'ConcurrencyModel')]);
    await pool.start();
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => call(pool, 'c', { ms: 5 }).then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('many calls over several models, some timing out in the queue, all settle', async () => {
    const pool = makePool(
      kind,
      [spec('a', 'basic.mjs', 'ConcurrencyModel', { maxConcurrentCalls: 2 }), spec('b', 'basic.mjs', 'NoopModel')],
      { size: 2 },
    );
    await pool.start();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 120 }, (_, i) =>
        i % 3 === 0 ? call(pool, 'b', i) : call(pool, 'a', { ms: 10 }, i % 5 === 0 ? { timeoutMs: 50 } : {}),
      ),
    );
    const codes = outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as { code: string }).code));
    expect(codes.filter((c) => c !== 'ok' && c !== 'SG_ERR_MODEL_TIMEOUT')).toEqual([]);
    expect(codes.filter((c) => c === 'ok').length).toBeGreaterThan(60);
    expect(pool.queueDepth).toBe(0);
    expect(await call(pool, 'b', 'still serving')).toBe('still serving');
  });

  test('maxConcurrentCalls 1: a copy runs one call at a time', async () => {
    const pool = makePool(kind, [spec('c', 'basic.mjs', 'ConcurrencyModel', { maxConcurrentCalls: 1 })]);
    await pool.start();
    const rs = (await Promise.all([1, 2, 3, 4].map(() => call(pool, 'c', { ms: 20 })))) as { maxRunning: number }[];
    expect(rs.map((r) => r.maxRunning)).toEqual([1, 1, 1, 1]);
  });

  test('maxConcurrentCalls n: a copy runs n async calls at once', async () => {
    const pool = makePool(kind, [spec('c', 'basic.mjs', 'ConcurrencyModel', { maxConcurrentCalls: 3 })]);
    await pool.start();
    // each call waits until 3 calls have arrived in this copy: only possible when 3 run at once
    const rs = (await Promise.all([1, 2, 3].map(() => call(pool, 'c', { gate: 3 })))) as {
      met: boolean;
      maxRunning: number;
    }[];
    expect(rs.every((r) => r.met)).toBe(true);
    expect(Math.max(...rs.map((r) => r.maxRunning))).toBe(3);
    // the 4th call waits for a free place: never more than 3 at once
    const more = (await Promise.all([1, 2, 3, 4].map(() => call(pool, 'c', { ms: 30 })))) as { maxRunning: number }[];
    expect(Math.max(...more.map((r) => r.maxRunning))).toBe(3);
  });

  test('a call for a busy model does not block a later call for a free model', async () => {
    const pool = makePool(kind, [
      spec('busy', 'basic.mjs', 'CancelAwareModel'),
      spec('free', 'basic.mjs', 'NoopModel'),
    ]);
    await pool.start();
    const ac = new AbortController();
    let settled = 0;
    const first = call(pool, 'busy', {}, { signal: ac.signal }).finally(() => settled++);
    const second = call(pool, 'busy', {}, { signal: ac.signal }).finally(() => settled++);
    expect(pool.queueDepth).toBe(1);
    expect(await call(pool, 'free', 'through')).toBe('through');
    expect(settled).toBe(0);
    ac.abort(new Error('done'));
    await expect(first).rejects.toThrow('done');
    await expect(second).rejects.toThrow('done');
    expect(pool.queueDepth).toBe(0);
  });

  test('ctx.recordUsage reaches onUsage; the last report wins', async () => {
    const pool = makePool(kind, [spec('u', 'basic.mjs', 'UsageModel')]);
    await pool.start();
    const seen: unknown[] = [];
    expect(await call(pool, 'u', { p: 5, c: 7 }, { onUsage: (u) => seen.push(u) })).toBe('ok');
    expect(seen).toHaveLength(2);
    expect(seen.at(-1)).toEqual({ prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 });
  });

  test('a 4-worker pool spreads calls over its workers', async () => {
    const pool = makePool(kind, [spec('c', 'basic.mjs', 'ConcurrencyModel')], { size: 4, logger: silent });
    await pool.start();
    const rs = (await Promise.all(Array.from({ length: 8 }, () => call(pool, 'c', { ms: 30 })))) as Where[];
    expect(new Set(rs.map(workerId)).size).toBe(4);
  });
});
