import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../src/monitoring/store/sqlite-store.js';
import type { CallRow } from '../../src/monitoring/store/store.js';
import { def, INSTANCE, OTHER, opened, register, row, T0, tmpDir } from './sqlite-fixtures.js';

const W = { from: T0, to: T0 + 60_000 };
const usage = (p: number, c: number, estimated = false) => ({
  prompt_tokens: p,
  completion_tokens: c,
  total_tokens: p + c,
  ...(estimated ? { estimated: true } : {}),
});

/** Rows 1–7 are in the window W, row 8 starts at its end (excluded), row 9 just before it. */
function fixture(uid: string): CallRow[] {
  const tokens = (p: number, c: number, estimated = false): Partial<CallRow> => ({
    promptTokens: p,
    completionTokens: c,
    totalTokens: p + c,
    usageEstimated: estimated,
    usage: usage(p, c, estimated),
  });
  return [
    row(uid, T0 + 1000, {
      eventId: 'e1',
      latencyMs: 100,
      queueMs: 2.5,
      streamed: true,
      ttfcMs: 20,
      chunks: 3,
      ...tokens(10, 5),
      inputs: { q: 'hi' },
      outputs: { answer: 'yo', usage: usage(10, 5) },
    }),
    row(uid, T0 + 2000, { eventId: 'e2', latencyMs: 300, batchSize: 4, ...tokens(20, 10, true) }),
    row(uid, T0 + 12_000, { eventId: 'e3', latencyMs: 50, outcome: 'error', errorCode: 'SG_ERR_PROVIDER_HTTP' }),
    row(uid, T0 + 13_000, { eventId: 'e4', latencyMs: 70, outcome: 'error', errorCode: 'SG_ERR_PROVIDER_HTTP' }),
    row(uid, T0 + 25_000, {
      eventId: 'e5',
      latencyMs: 80,
      outcome: 'error',
      errorCode: 'SG_ERR_PROVIDER_TIMEOUT',
      errorMessage: 'timed out',
      ...tokens(5, 0),
    }),
    row(uid, T0 + 26_000, {
      eventId: 'e6',
      latencyMs: 999,
      outcome: 'aborted',
      errorCode: 'SG_ERR_CLIENT_CLOSED',
      streamed: true,
      ttfcMs: 7,
      chunks: 1,
    }),
    row(uid, T0 + 27_000, { eventId: 'e7', latencyMs: 200, streamed: true, ttfcMs: 40, chunks: 9 }),
    row(uid, T0 + 60_000, { eventId: 'e8', latencyMs: 5000 }),
    row(uid, T0 - 1, { eventId: 'e9', latencyMs: 1 }),
  ];
}

for (const kind of ['file', 'memory'] as const) {
  describe(`SqliteStore (${kind}): call rows and the queries of section 8`, () => {
    let s: SqliteStore;
    let uid: string;
    let rows: CallRow[];
    beforeEach(async () => {
      s = await opened(kind === 'file' ? `sqlite:${join(tmpDir(), 'm.db')}` : 'sqlite::memory:');
      uid = await register(s, def('finance', 'h1'));
      rows = fixture(uid);
      await s.writeCalls({ rows: rows.slice(0, 7), rollups: [], instance: INSTANCE, now: T0 + 30_000 });
      await s.writeCalls({ rows: rows.slice(7), rollups: [], instance: INSTANCE, now: T0 + 61_000 });
    });

    it('aggregate: exact figures of the window', async () => {
      expect(await s.aggregate({ uid, ...W })).toEqual({
        count: 7,
        errors: 3,
        aborted: 1,
        errorsByCode: { SG_ERR_PROVIDER_HTTP: 2, SG_ERR_PROVIDER_TIMEOUT: 1 },
        latencyMean: 200,
        latencyMax: 300,
        promptTokens: 35,
        completionTokens: 15,
        totalTokens: 50,
        tokensEstimated: true,
        streamed: 3,
      });
      expect(await s.aggregate({ uid, from: T0 + 12_000, to: T0 + 14_000 })).toEqual({
        count: 2,
        errors: 2,
        aborted: 0,
        errorsByCode: { SG_ERR_PROVIDER_HTTP: 2 },
        latencyMean: null,
        latencyMax: null,
        promptTokens: 0,
        completionTokens: 0,
        totalTokens: 0,
        tokensEstimated: false,
        streamed: 0,
      });
      expect((await s.aggregate({ uid: 'x'.repeat(32), ...W })).count).toBe(0);
    });

    it('latencies: ok calls, and first-chunk times of ok streamed calls, ascending', async () => {
      expect(await s.latencies({ uid, ...W })).toEqual({ latency: [100, 200, 300], ttfc: [20, 40] });
      expect(await s.latencies({ uid, from: T0 - 1, to: T0 + 60_001 })).toEqual({
        latency: [1, 100, 200, 300, 5000],
        ttfc: [20, 40],
      });
    });

    it('series: non-empty step buckets aligned on the epoch', async () => {
      expect(await s.series({ uid, ...W, stepMs: 10_000 })).toEqual([
        { t: T0, count: 2, errors: 0, aborted: 0, tokensIn: 30, tokensOut: 15 },
        { t: T0 + 10_000, count: 2, errors: 2, aborted: 0, tokensIn: 0, tokensOut: 0 },
        { t: T0 + 20_000, count: 3, errors: 1, aborted: 1, tokensIn: 5, tokensOut: 0 },
      ]);
      expect((await s.series({ uid, ...W, stepMs: 15_000 })).map((p) => [p.t - T0, p.count])).toEqual([
        [0, 4],
        [15_000, 3],
      ]);
    });

    it('calls: newest first, by outcome, rows rebuilt with JSON and flags', async () => {
      expect((await s.calls({ uid, limit: 3 })).map((c) => c.eventId)).toEqual(['e8', 'e7', 'e6']);
      expect((await s.calls({ uid, limit: 50, outcome: 'error' })).map((c) => c.eventId)).toEqual(['e5', 'e4', 'e3']);
      const all = await s.calls({ uid, limit: 50 });
      expect(all).toHaveLength(9);
      expect(all.find((c) => c.eventId === 'e1')).toEqual(rows[0]);
      expect(all.find((c) => c.eventId === 'e2')).toEqual(rows[1]);
      expect(all.find((c) => c.eventId === 'e6')).toEqual(rows[5]);
      // the same started_at: the later insert first
      await s.writeCalls({
        rows: [row(uid, T0 + 70_000, { eventId: 'x1' }), row(uid, T0 + 70_000, { eventId: 'x2' })],
        rollups: [],
        instance: INSTANCE,
        now: T0 + 71_000,
      });
      expect((await s.calls({ uid, limit: 2 })).map((c) => c.eventId)).toEqual(['x2', 'x1']);
    });

    it('first and last request times follow the earliest and latest call', async () => {
      const get = async () => {
        const r = await s.getEndpoint({ graph: 'support', name: 'finance', now: T0 });
        return [r?.firstRequestAt, r?.lastRequestAt];
      };
      expect(await get()).toEqual([new Date(T0 - 1).toISOString(), new Date(T0 + 60_000).toISOString()]);
      await s.writeCalls({ rows: [row(uid, T0 + 5)], rollups: [], instance: INSTANCE, now: T0 });
      expect(await get()).toEqual([new Date(T0 - 1).toISOString(), new Date(T0 + 60_000).toISOString()]);
      await s.writeCalls({
        rows: [row(uid, T0 + 90_000), row(uid, T0 - 50)],
        rollups: [],
        instance: INSTANCE,
        now: T0,
      });
      expect(await get()).toEqual([new Date(T0 - 50).toISOString(), new Date(T0 + 90_000).toISOString()]);
    });
  });
}

describe('SqliteStore: rollups, retention, unknown endpoints', () => {
  it('adds rollup counts element-wise per instance and bucket; queries sum them over instances', async () => {
    const file = join(tmpDir(), 'm.db');
    const s = await opened(`sqlite:${file}`);
    const uid = await register(s, def('finance', 'h1'));
    const write = (instance: typeof INSTANCE, rollups: Array<[number, number[], number[]]>) =>
      s.writeCalls({
        rows: [],
        rollups: rollups.map(([b, latency, ttfc]) => ({ endpointUid: uid, bucketStart: T0 + b, latency, ttfc })),
        instance,
        now: T0,
      });
    await write(INSTANCE, [
      [0, [0, 1, 2], [1, 0]],
      [10_000, [1, 0, 0], [0, 0]],
    ]);
    await write(INSTANCE, [[0, [1, 1, 1], [0, 1]]]);
    await write(OTHER, [[0, [0, 0, 5], [2, 2]]]);
    expect(await s.rollups({ uid, from: T0, to: T0 + 10_000 })).toEqual([
      { bucketStart: T0, latency: [1, 2, 8], ttfc: [3, 3] },
    ]);
    expect(await s.rollups({ uid, from: T0, to: T0 + 20_000 })).toEqual([
      { bucketStart: T0, latency: [1, 2, 8], ttfc: [3, 3] },
      { bucketStart: T0 + 10_000, latency: [1, 0, 0], ttfc: [0, 0] },
    ]);
    expect(await s.rollups({ uid, from: T0 + 1, to: T0 + 10_000 })).toEqual([]);
    const db = new Database(file, { readonly: true });
    expect(
      db.prepare('SELECT instance_id, latency_counts FROM sg_rollups WHERE bucket_start = ? ORDER BY 1').raw().all(T0),
    ).toEqual([
      ['inst-a', '[1,2,3]'],
      ['inst-b', '[0,0,5]'],
    ]);
    db.close();
  });

  it('deleteBefore deletes only older call rows and rollups, at most `limit` of each per call', async () => {
    const s = await opened();
    const uid = await register(s, def('finance', 'h1'));
    await s.writeCalls({
      rows: [row(uid, T0 - 3000), row(uid, T0 - 2000), row(uid, T0 - 1000), row(uid, T0), row(uid, T0 + 1)],
      rollups: [-20_000, -10_000, 0].map((b) => ({ endpointUid: uid, bucketStart: T0 + b, latency: [1], ttfc: [0] })),
      instance: INSTANCE,
      now: T0,
    });
    expect(await s.deleteBefore(T0, 2)).toBe(4);
    expect(await s.deleteBefore(T0, 2)).toBe(1);
    expect(await s.deleteBefore(T0, 2)).toBe(0);
    expect((await s.calls({ uid, limit: 10 })).map((c) => c.startedAt)).toEqual([T0 + 1, T0]);
    expect((await s.rollups({ uid, from: 0, to: T0 + 10_000 })).map((r) => r.bucketStart)).toEqual([T0]);
    expect(await s.getEndpoint({ graph: 'support', name: 'finance', now: T0 })).toBeDefined();
  });

  it('skips rows and rollups of an endpoint record that no longer exists', async () => {
    const s = await opened();
    const uid = await register(s, def('finance', 'h1'));
    const gone = 'a'.repeat(32);
    await s.writeCalls({
      rows: [row(gone, T0), row(uid, T0 + 1)],
      rollups: [{ endpointUid: gone, bucketStart: T0, latency: [1], ttfc: [0] }],
      instance: INSTANCE,
      now: T0,
    });
    expect((await s.calls({ uid, limit: 10 })).map((c) => c.startedAt)).toEqual([T0 + 1]);
    expect(await s.calls({ uid: gone, limit: 10 })).toEqual([]);
    expect(await s.rollups({ uid: gone, from: 0, to: T0 + 1 })).toEqual([]);
  });
});
