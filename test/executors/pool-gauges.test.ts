// What a WorkerPool tells its gauges (servegraph_pool_queue_depth, servegraph_pool_workers, monitoring.md section 9):
// calls waiting, workers busy and idle, after every change, through queueing, timeouts, a dead worker and close.
import { afterEach, describe, expect, test } from 'vitest';
import { call, closeAll, KINDS, makePool, rejection, spec, until } from './helpers.js';

afterEach(closeAll);

/** The gauges' last values as [queue depth, busy, idle], and every report. */
function gauges() {
  const seen: [number, number, number][] = [];
  return {
    seen,
    last: () => seen.at(-1),
    set(depth: number, busy: number, idle: number) {
      seen.push([depth, busy, idle]);
    },
  };
}

describe.each(KINDS)('%s pool gauges', (kind) => {
  test('two workers, three slow calls: one waits while both work; afterwards both idle', async () => {
    const g = gauges();
    const pool = makePool(kind, [spec('crash', 'basic.mjs', 'CrashModel')], { size: 2, gauges: g });
    await pool.start();
    expect(g.last()).toEqual([0, 0, 2]);
    const calls = [1, 2, 3].map(() => call(pool, 'crash', { how: 'slow', ms: 200 }));
    expect(g.last()).toEqual([1, 2, 0]);
    await Promise.all(calls);
    expect(g.last()).toEqual([0, 0, 2]);
    expect(g.seen).toContainEqual([0, 1, 1]);
  });

  test('a queued call that times out leaves the queue; a worker that dies mid-call is busy no more', async () => {
    const g = gauges();
    const pool = makePool(kind, [spec('crash', 'basic.mjs', 'CrashModel')], { size: 1, gauges: g });
    await pool.start();
    const running = call(pool, 'crash', { how: 'slow', ms: 300 });
    const queued = call(pool, 'crash', {}, { timeoutMs: 50 });
    expect(g.last()).toEqual([1, 1, 0]);
    await rejection(queued, 'SG_ERR_MODEL_TIMEOUT');
    expect(g.last()).toEqual([0, 1, 0]);
    await running;
    expect(g.last()).toEqual([0, 0, 1]);
    await rejection(call(pool, 'crash', { how: 'exit' }), 'SG_ERR_WORKER_DIED');
    expect(g.last()).toEqual([0, 0, 0]);
    // the replacement loads its models, then is idle
    await until(() => g.last()?.[2] === 1);
    expect(g.last()).toEqual([0, 0, 1]);
  });

  test('closed: nothing waits, no worker', async () => {
    const g = gauges();
    const pool = makePool(kind, [spec('crash', 'basic.mjs', 'CrashModel')], { size: 1, gauges: g });
    await pool.start();
    await call(pool, 'crash', {});
    await pool.close(0);
    expect(g.last()).toEqual([0, 0, 0]);
  });
});
