import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import type { SgError } from '../../src/errors/index.js';
import { alive, call, closeAll, KINDS, makePool, ref, rejection, spec, tempDir } from './helpers.js';

/** Start-up and shut-down of a pool (model-runner.md section 8): load failures, close, no orphans. */

afterEach(closeAll);

type Where = { threadId: number; pid: number };

async function startFails(pool: ReturnType<typeof makePool>, code: string): Promise<SgError> {
  const e = await rejection(pool.start(), code);
  expect(pool.aliveWorkers).toBe(0);
  return e;
}

describe.each(KINDS)('%s pool start-up', (kind) => {
  test('a class that does not extend Model: SG_ERR_INVALID_CLASS naming the endpoint', async () => {
    const e = await startFails(makePool(kind, [spec('bad', 'failing.mjs', 'NotAModel')]), 'SG_ERR_INVALID_CLASS');
    expect(e.endpoint).toBe('bad');
    expect(e.step).toBe('runner');
  });

  test('a model without predict: SG_ERR_PREDICT_NOT_IMPLEMENTED naming endpoint and mechanism', async () => {
    const e = await startFails(
      makePool(kind, [spec('none', 'failing.mjs', 'NoPredictModel')]),
      'SG_ERR_PREDICT_NOT_IMPLEMENTED',
    );
    expect(e.endpoint).toBe('none');
    expect(e.message).toContain(kind === 'thread' ? 'thread_pool' : 'process_pool');
  });

  test('load() throws: SG_ERR_MODEL_LOAD with the cause; an SgError is kept', async () => {
    const e = await startFails(makePool(kind, [spec('lt', 'failing.mjs', 'LoadThrowsModel')]), 'SG_ERR_MODEL_LOAD');
    expect(e.endpoint).toBe('lt');
    expect(e.message).toContain('no weights');
    expect((e.cause as Error).message).toBe('no weights');
    const sg = await startFails(
      makePool(kind, [spec('cred', 'failing.mjs', 'LoadThrowsSgModel')]),
      'SG_ERR_PROVIDER_CREDENTIALS',
    );
    expect(sg.endpoint).toBe('cred');
    expect(sg.details).toEqual({ provider: 'x' });
  });

  test('a module that cannot be imported, or lacks the export', async () => {
    const missing = pathToFileURL('/nonexistent/models/x.mjs').href;
    const pool = makePool(kind, [{ ...spec('m', 'basic.mjs', 'NoopModel'), classRef: `${missing}#X` }]);
    const e = await startFails(pool, 'SG_ERR_MODULE_LOAD');
    expect(e.endpoint).toBe('m');
    const u = await startFails(makePool(kind, [spec('u', 'basic.mjs', 'Nope')]), 'SG_ERR_UNKNOWN_CLASS');
    expect(u.endpoint).toBe('u');
    expect(ref('basic.mjs', 'Nope')).toContain('#Nope');
  });

  test('a worker that exits while loading: SG_ERR_WORKER_DIED naming the model', async () => {
    const e = await startFails(makePool(kind, [spec('ex', 'failing.mjs', 'LoadExitsModel')]), 'SG_ERR_WORKER_DIED');
    expect(e.endpoint).toBe('ex');
    expect(e.message).toContain('exit code 5');
  });

  test('the first failure stops every worker, the loading ones included; later calls fail', async () => {
    const tmp = tempDir();
    try {
      const pidFile = tmp.file('pids');
      const pool = makePool(
        kind,
        [
          spec('slow', 'failing.mjs', 'SlowLoadModel', { modelParameters: { pidFile, ms: 2000 } }),
          spec('lt', 'failing.mjs', 'LoadThrowsModel', { modelParameters: { pidFile } }),
        ],
        { size: 2 },
      );
      const started = Date.now();
      const e = await startFails(pool, 'SG_ERR_MODEL_LOAD');
      expect(e.endpoint).toBe('lt');
      expect(Date.now() - started).toBeLessThan(5000);
      if (kind === 'process') {
        const pids = tmp.lines('pids').map(Number);
        expect(pids.length).toBeGreaterThanOrEqual(2);
        for (const pid of pids) {
          if (pid !== process.pid) expect(alive(pid), `pid ${pid}`).toBe(false);
        }
      }
      await rejection(call(pool, 'slow', {}), 'SG_ERR_MODEL_UNAVAILABLE');
    } finally {
      tmp.cleanup();
    }
  });
});

describe.each(KINDS)('%s pool shut-down', (kind) => {
  test('close(grace): calls in flight finish, models close() in their workers, workers stop', async () => {
    const tmp = tempDir();
    try {
      const closeLog = tmp.file('closed');
      const pool = makePool(kind, [spec('m', 'basic.mjs', 'CloseLogModel', { modelParameters: { closeLog } })], {
        size: 2,
      });
      await pool.start();
      const inFlight = [call(pool, 'm', { ms: 300 }), call(pool, 'm', { ms: 300 }), call(pool, 'm', { ms: 300 })];
      const closing = pool.close(10_000);
      await rejection(call(pool, 'm', {}), 'SG_ERR_SERVER_CLOSED');
      expect(await Promise.all(inFlight)).toEqual(['slow-done', 'slow-done', 'slow-done']);
      await closing;
      expect(tmp.lines('closed')).toHaveLength(2);
      expect(pool.aliveWorkers).toBe(0);
      const after = await rejection(call(pool, 'm', {}), 'SG_ERR_SERVER_CLOSED');
      expect(after.endpoint).toBe('m');
      await pool.close(0); // twice is fine
    } finally {
      tmp.cleanup();
    }
  });

  test('when the grace period ends, the rest fail with SG_ERR_SERVER_CLOSED and the workers stop', async () => {
    const tmp = tempDir();
    try {
      const closeLog = tmp.file('closed');
      const pool = makePool(kind, [
        spec('m', 'basic.mjs', 'CloseLogModel', { modelParameters: { closeLog } }),
        spec('c', 'basic.mjs', 'CancelAwareModel'),
        spec('w', 'basic.mjs', 'EchoModel'),
      ]);
      await pool.start();
      const pid = ((await call(pool, 'w', {})) as Where).pid;
      const running = call(pool, 'm', { ms: 20_000 });
      const queued = call(pool, 'm', {});
      const cancelAware = call(pool, 'c', {});
      const failures = [running, queued, cancelAware].map((p) => rejection(p, 'SG_ERR_SERVER_CLOSED'));
      const started = Date.now();
      await pool.close(200);
      expect(Date.now() - started).toBeLessThan(5000);
      const [e] = await Promise.all(failures);
      expect(e.endpoint).toBe('m');
      expect(tmp.lines('closed')).toHaveLength(1);
      if (kind === 'process') expect(alive(pid)).toBe(false);
    } finally {
      tmp.cleanup();
    }
  });

  test('a worker stuck in a loop at close is still stopped', async () => {
    const pool = makePool(kind, [spec('s', 'basic.mjs', 'StuckModel')]);
    await pool.start();
    const pid = ((await call(pool, 's', {})) as Where).pid;
    const stuck = rejection(call(pool, 's', { spin: true }), 'SG_ERR_SERVER_CLOSED');
    await pool.close(100);
    await stuck;
    expect(pool.aliveWorkers).toBe(0);
    if (kind === 'process') expect(alive(pid)).toBe(false);
  });
});

describe('no orphan processes', () => {
  test('after close(), every child pid is gone', async () => {
    const pool = makePool('process', [spec('c', 'basic.mjs', 'ConcurrencyModel')], { size: 3 });
    await pool.start();
    const rs = (await Promise.all([1, 2, 3].map(() => call(pool, 'c', { ms: 100 })))) as Where[];
    const pids = [...new Set(rs.map((r) => r.pid))];
    expect(pids).toHaveLength(3);
    for (const pid of pids) expect(alive(pid)).toBe(true);
    await pool.close(1000);
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
  });

  test('after a failed start(), every child pid is gone', async () => {
    const tmp = tempDir();
    try {
      const pidFile = tmp.file('pids');
      const pool = makePool(
        'process',
        [
          spec('ok', 'failing.mjs', 'SlowLoadModel', { modelParameters: { pidFile, ms: 10 } }),
          spec('bad', 'failing.mjs', 'LoadThrowsModel', { modelParameters: { pidFile } }),
        ],
        { size: 3 },
      );
      await rejection(pool.start(), 'SG_ERR_MODEL_LOAD');
      const pids = [...new Set(tmp.lines('pids').map(Number))];
      expect(pids.length).toBeGreaterThanOrEqual(1);
      for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    } finally {
      tmp.cleanup();
    }
  });

  test('close() during start() rejects start() and stops every child', async () => {
    const tmp = tempDir();
    try {
      const pidFile = tmp.file('pids');
      const pool = makePool(
        'process',
        [spec('slow', 'failing.mjs', 'SlowLoadModel', { modelParameters: { pidFile, ms: 3000 } })],
        { size: 2 },
      );
      const starting = pool.start();
      const failed = rejection(starting, 'SG_ERR_SERVER_CLOSED');
      while (tmp.lines('pids').length < 2) await new Promise((r) => setTimeout(r, 10));
      await pool.close(0);
      await failed;
      for (const pid of tmp.lines('pids').map(Number)) expect(alive(pid), `pid ${pid}`).toBe(false);
    } finally {
      tmp.cleanup();
    }
  });
});
