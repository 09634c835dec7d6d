import { describe, expect, test } from 'vitest';
import { createGraph, MapStep, SgError, Step, type StepContext } from '../../src/index.js';
import { deferred, quietServer, rejectsSg, sleep, waitFor } from '../support/core.js';
import { gated, servers } from './mock-server-fixtures.js';

describe('maxConcurrency', () => {
  test('one more event than maxConcurrency rejects at once with SG_ERR_OVERLOADED (429); nothing is queued', async () => {
    const gate = deferred();
    const { server, signals } = gated(gate.promise, { maxConcurrency: 2 });
    await server.ready();
    const a = server.test('/', 'a');
    const b = server.test('/', 'b');
    const err = await rejectsSg(server.test('/', 'c'), 'SG_ERR_OVERLOADED');
    expect(err.status).toBe(429);
    expect(signals).toHaveLength(2);
    gate.resolve();
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    // capacity is back once replies are decided
    expect(await Promise.all([server.test('/', 'd'), server.test('/', 'e')])).toEqual(['d', 'e']);
    expect(signals).toHaveLength(4);
  });

  test('failed events give their place back; 0 means no limit', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'f',
        handler: () => {
          throw new Error('x');
        },
      }),
    ).respond();
    const server = quietServer(g, { maxConcurrency: 1 });
    servers.push(server);
    for (let i = 0; i < 3; i++) await rejectsSg(server.test('/', i), 'SG_ERR_STEP_FAILED');
    const gate = deferred();
    const { server: unlimited } = gated(gate.promise, { maxConcurrency: 0 });
    await unlimited.ready();
    const many = Array.from({ length: 2000 }, (_, i) => unlimited.test('/', i));
    gate.resolve();
    expect((await Promise.all(many)).length).toBe(2000);
  });

  test('the default limit is 1024', async () => {
    const gate = deferred();
    const { server } = gated(gate.promise);
    await server.ready();
    const inFlight = Array.from({ length: 1024 }, (_, i) => server.test('/', i));
    await rejectsSg(server.test('/', 'over'), 'SG_ERR_OVERLOADED');
    gate.resolve();
    await Promise.all(inFlight);
  });
});

describe('close()', () => {
  test('events in flight finish within graceMs; the rest fail with SG_ERR_SERVER_CLOSED and their signal aborts', async () => {
    const never = new Promise(() => {});
    const g = createGraph();
    const signals: AbortSignal[] = [];
    let closed = false;
    class Hook extends Step {
      override async do(b: string, ctx: StepContext) {
        signals.push(ctx.signal);
        if (b === 'quick') await sleep(20);
        else await never;
        return b;
      }
      close() {
        closed = true;
      }
    }
    g.to(new Hook({ name: 'hook' })).respond();
    const server = quietServer(g);
    await server.ready();
    const quick = server.test('/', 'quick');
    const stuck = server.test('/', 'stuck');
    await waitFor(() => signals.length === 2);
    const started = Date.now();
    const closing = server.close({ graceMs: 200 });
    expect(server.close()).toBe(closing);
    expect(await quick).toBe('quick');
    const err = await rejectsSg(stuck, 'SG_ERR_SERVER_CLOSED');
    expect(err.status).toBe(503);
    await closing;
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeGreaterThan(0.1);
    expect(seconds).toBeLessThan(3);
    expect(signals[0].aborted).toBe(false);
    expect(signals[1].aborted).toBe(true);
    expect(signals[1].reason).toBeInstanceOf(SgError);
    expect((signals[1].reason as SgError).code).toBe('SG_ERR_SERVER_CLOSED');
    expect(closed).toBe(true);
    // closed: new events are refused, also through testStream
    await rejectsSg(server.test('/', 'late'), 'SG_ERR_SERVER_CLOSED');
    await rejectsSg(async () => {
      for await (const _ of server.testStream('/', 'late')) void _;
    }, 'SG_ERR_SERVER_CLOSED');
    expect(server.close()).toBe(closing);
  });

  test('close() with nothing in flight resolves at once, and before ready()', async () => {
    const g = createGraph();
    g.to(new MapStep({ name: 'a', handler: (b) => b })).respond();
    const server = quietServer(g);
    expect(await server.test('/', 1)).toBe(1);
    const started = Date.now();
    await server.close();
    expect((Date.now() - started) / 1000).toBeLessThan(1);
    const g2 = createGraph();
    g2.to(new MapStep({ name: 'a', handler: (b) => b })).respond();
    const early = quietServer(g2);
    const pending = early.test('/', 1);
    await early.close();
    await rejectsSg(pending, 'SG_ERR_SERVER_CLOSED');
    expect(() => g2.to(new MapStep({ name: 'b', handler: (b) => b }))).not.toThrow();
  });

  test('the graph keeps serving other events while some are failing, up to close', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'm',
        handler: async (i: number) => {
          await sleep(i % 7);
          if (i % 5 === 0) throw new SgError('SG_ERR_FIVE', 'five');
          return i;
        },
      }),
    ).respond();
    const server = quietServer(g);
    const rs = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => server.test('/', i)));
    rs.forEach((r, i) => {
      if (i % 5 === 0) expect((r as PromiseRejectedResult).reason.code).toBe('SG_ERR_FIVE');
      else expect(r).toEqual({ status: 'fulfilled', value: i });
    });
    await server.close();
  });
});

describe('testStream() on a graph that does not stream', () => {
  test('a reply yields one item; undefined yields none; done gives the count', async () => {
    const g = createGraph();
    g.to(new MapStep({ name: 'r', handler: (b: { skip?: boolean }) => (b.skip ? undefined : { ok: b }) })).respond();
    const server = quietServer(g);
    servers.push(server);
    const items: unknown[] = [];
    const s = server.testStream('/', { v: 1 }, { id: 'st-1' });
    for await (const item of s) items.push(item);
    expect(items).toEqual([{ ok: { v: 1 } }]);
    expect(await s.done).toMatchObject({ id: 'st-1', chunks: 1 });
    const none: unknown[] = [];
    const empty = server.testStream('/', { skip: true });
    for await (const item of empty) none.push(item);
    expect(none).toEqual([]);
    expect((await empty.done).chunks).toBe(0);
  });

  test('a failure rejects the iterator and done; invalid options too', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'r',
        handler: () => {
          throw new Error('x');
        },
      }),
    ).respond();
    const server = quietServer(g);
    servers.push(server);
    const s = server.testStream('/', 1);
    await rejectsSg(async () => {
      for await (const _ of s) void _;
    }, 'SG_ERR_STEP_FAILED');
    await rejectsSg(s.done, 'SG_ERR_STEP_FAILED');
    await rejectsSg(async () => {
      for await (const _ of server.testStream('bad')) void _;
    }, 'SG_ERR_INVALID_OPTION');
    await rejectsSg(async () => {
      for await (const _ of server.testStream('/', 1, { fullEvent: 'yes' as never })) void _;
    }, 'SG_ERR_INVALID_OPTION');
    // an unread stream never causes an unhandled rejection
    server.testStream('/', 2);
    await sleep(10);
  });

  test('a graph without a responder throws SG_ERR_NO_RESPONDER from the iterator', async () => {
    const g = createGraph();
    g.to(new MapStep({ name: 'a', handler: (b) => b }));
    const server = quietServer(g);
    servers.push(server);
    const s = server.testStream('/', 1);
    await rejectsSg(async () => {
      for await (const _ of s) void _;
    }, 'SG_ERR_NO_RESPONDER');
    expect(await server.test('/', 1, { id: 'n' })).toEqual({ id: 'n' });
  });
});

describe('close() options', () => {
  test('invalid options reject with SG_ERR_INVALID_OPTION; the server stays open', async () => {
    const g = createGraph();
    g.to(new MapStep({ name: 'a', handler: (b) => b })).respond();
    const server = quietServer(g);
    servers.push(server);
    for (const options of [{ graceMs: -1 }, { graceMs: 'soon' }, { grace: 1 }, 'x']) {
      await rejectsSg(server.close(options as never), 'SG_ERR_INVALID_OPTION');
    }
    expect(await server.test('/', 1)).toBe(1);
  });

  test('a grace period longer than setTimeout allows does not end at once', async () => {
    const gate = deferred();
    const { server } = gated(gate.promise);
    await server.ready();
    const reply = server.test('/', 'x');
    const closing = server.close({ graceMs: 30 * 24 * 3600 * 1000 });
    await sleep(100);
    gate.resolve();
    expect(await reply).toBe('x');
    await closing;
  });
});
