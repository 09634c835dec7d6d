import { expect, it } from 'vitest';
import { LATENCY_BOUNDS_MS, TTFC_BOUNDS_MS } from '../../src/monitoring/store/store.js';
import { def, describePg, INSTANCE, OTHER, register, row, T0, usePgSchema } from './postgres-fixtures.js';

const db = usePgSchema('sgtest_queries');
const iso = (t: number) => new Date(t).toISOString();
const WINDOW = { from: T0, to: T0 + 60_000 };

/** Seven calls in [T0, T0 + 60 s), one before and one after (the figures below are computed by hand). */
function calls(uid: string) {
  return [
    row(uid, T0 - 1, { latencyMs: 9999 }),
    row(uid, T0 + 1000, { latencyMs: 100, promptTokens: 10, completionTokens: 20, totalTokens: 30 }),
    row(uid, T0 + 2000, {
      latencyMs: 300,
      queueMs: 1.5,
      streamed: true,
      ttfcMs: 50,
      chunks: 5,
      batchSize: 2,
      promptTokens: 5,
      completionTokens: 7,
      totalTokens: 12,
      usageEstimated: true,
      usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12, estimated: true },
      inputs: { question: 'why?', n: [1, 2.5] },
      outputs: { answer: 'because', usage: null },
    }),
    row(uid, T0 + 16_000, { outcome: 'error', latencyMs: 40, errorCode: 'SG_ERR_PROVIDER_HTTP', errorMessage: '502' }),
    row(uid, T0 + 17_000, { outcome: 'error', latencyMs: 45, errorCode: 'SG_ERR_PROVIDER_HTTP', errorMessage: '500' }),
    row(uid, T0 + 31_000, { outcome: 'error', latencyMs: 5000, errorCode: 'SG_ERR_PROVIDER_TIMEOUT' }),
    row(uid, T0 + 32_000, {
      outcome: 'aborted',
      latencyMs: 700,
      errorCode: 'SG_ERR_CLIENT_CLOSED',
      promptTokens: 3,
      completionTokens: 1,
      totalTokens: 4,
    }),
    row(uid, T0 + 33_000, { latencyMs: 200, streamed: true, ttfcMs: 20, chunks: 2 }),
    row(uid, T0 + 70_000, { latencyMs: 1 }),
  ];
}

describePg('PostgresStore: writes and queries (monitoring.md sections 5 and 8)', () => {
  it('aggregates a window exactly', async () => {
    const s = await db.opened();
    const uid = await register(s, def('finance', 'h1'));
    await s.writeCalls({ rows: calls(uid), rollups: [], instance: INSTANCE, now: T0 });
    expect(await s.aggregate({ uid, ...WINDOW })).toEqual({
      count: 7,
      errors: 3,
      aborted: 1,
      errorsByCode: { SG_ERR_PROVIDER_HTTP: 2, SG_ERR_PROVIDER_TIMEOUT: 1 },
      latencyMean: 200,
      latencyMax: 300,
      promptTokens: 18,
      completionTokens: 28,
      totalTokens: 46,
      tokensEstimated: true,
      streamed: 2,
    });
    expect(await s.aggregate({ uid, from: T0 + 60_000, to: T0 + 65_000 })).toEqual({
      count: 0,
      errors: 0,
      aborted: 0,
      errorsByCode: {},
      latencyMean: null,
      latencyMax: null,
      promptTokens: 0,
      completionTokens: 0,
      totalTokens: 0,
      tokensEstimated: false,
      streamed: 0,
    });
    // the bounds: from included, to excluded
    expect((await s.aggregate({ uid, from: T0 + 1000, to: T0 + 2000 })).count).toBe(1);
  });

  it('latencies of ok calls and first-chunk times of ok streamed calls, ascending', async () => {
    const s = await db.opened();
    const uid = await register(s, def('finance', 'h1'));
    await s.writeCalls({ rows: calls(uid), rollups: [], instance: INSTANCE, now: T0 });
    expect(await s.latencies({ uid, ...WINDOW })).toEqual({ latency: [100, 200, 300], ttfc: [20, 50] });
    expect(await s.latencies({ uid, from: 0, to: 1 })).toEqual({ latency: [], ttfc: [] });
  });

  it('series: non-empty step buckets aligned on the epoch', async () => {
    const s = await db.opened();
    const uid = await register(s, def('finance', 'h1'));
    await s.writeCalls({ rows: calls(uid), rollups: [], instance: INSTANCE, now: T0 });
    expect(await s.series({ uid, ...WINDOW, stepMs: 15_000 })).toEqual([
      { t: T0, count: 2, errors: 0, aborted: 0, tokensIn: 15, tokensOut: 27 },
      { t: T0 + 15_000, count: 2, errors: 2, aborted: 0, tokensIn: 0, tokensOut: 0 },
      { t: T0 + 30_000, count: 3, errors: 1, aborted: 1, tokensIn: 3, tokensOut: 1 },
    ]);
    // T0 is 2000 past a multiple of 7000: T0 + 1000 and T0 + 2000 share the bucket T0 - 2000
    expect(T0 % 7000).toBe(2000);
    expect(await s.series({ uid, from: T0 + 1, to: T0 + 17_000, stepMs: 7000 })).toEqual([
      { t: T0 - 2000, count: 2, errors: 0, aborted: 0, tokensIn: 15, tokensOut: 27 },
      { t: T0 + 12_000, count: 1, errors: 1, aborted: 0, tokensIn: 0, tokensOut: 0 },
    ]);
  });

  it('calls: newest first, by outcome, with every field as written', async () => {
    const s = await db.opened();
    const uid = await register(s, def('finance', 'h1'));
    const rows = calls(uid);
    await s.writeCalls({ rows, rollups: [], instance: INSTANCE, now: T0 });
    expect((await s.calls({ uid, limit: 3 })).map((c) => c.startedAt)).toEqual([T0 + 70_000, T0 + 33_000, T0 + 32_000]);
    const errors = await s.calls({ uid, limit: 10, outcome: 'error' });
    expect(errors.map((c) => [c.startedAt, c.errorCode])).toEqual([
      [T0 + 31_000, 'SG_ERR_PROVIDER_TIMEOUT'],
      [T0 + 17_000, 'SG_ERR_PROVIDER_HTTP'],
      [T0 + 16_000, 'SG_ERR_PROVIDER_HTTP'],
    ]);
    const all = await s.calls({ uid, limit: 100 });
    expect(all).toHaveLength(9);
    expect(all.find((c) => c.startedAt === T0 + 2000)).toEqual(rows[2]);
    expect(all.find((c) => c.startedAt === T0 + 32_000)).toEqual(rows[6]);
    expect(await s.calls({ uid: 'f'.repeat(32), limit: 10 })).toEqual([]);
  });

  it('raises firstRequestAt and lastRequestAt with LEAST / GREATEST', async () => {
    const s = await db.opened();
    const uid = await register(s, def('finance', 'h1'));
    const times = async () => {
      const r = await s.getEndpoint({ graph: 'support', name: 'finance', now: T0 });
      return [r?.firstRequestAt, r?.lastRequestAt];
    };
    await s.writeCalls({ rows: [row(uid, T0 + 500), row(uid, T0 + 100)], rollups: [], instance: INSTANCE, now: T0 });
    expect(await times()).toEqual([iso(T0 + 100), iso(T0 + 500)]);
    await s.writeCalls({ rows: [row(uid, T0 + 300)], rollups: [], instance: INSTANCE, now: T0 });
    expect(await times()).toEqual([iso(T0 + 100), iso(T0 + 500)]);
    await s.writeCalls({ rows: [row(uid, T0 + 50), row(uid, T0 + 900)], rollups: [], instance: OTHER, now: T0 });
    expect(await times()).toEqual([iso(T0 + 50), iso(T0 + 900)]);
  });

  it('adds rollup counts element-wise per instance and sums instances in queries', async () => {
    const s = await db.opened();
    const uid = await register(s, def('finance', 'h1'));
    const zeros = (n: number) => new Array<number>(n).fill(0);
    const lat = (i: number, n: number) => Object.assign(zeros(LATENCY_BOUNDS_MS.length + 1), { [i]: n });
    const ttfc = (i: number, n: number) => Object.assign(zeros(TTFC_BOUNDS_MS.length + 1), { [i]: n });
    await s.writeCalls({
      rows: [],
      rollups: [
        { endpointUid: uid, bucketStart: T0, latency: lat(3, 2), ttfc: ttfc(0, 1) },
        // the same bucket twice in one write
        { endpointUid: uid, bucketStart: T0, latency: lat(3, 1), ttfc: ttfc(12, 1) },
        { endpointUid: uid, bucketStart: T0 - 10_000, latency: lat(0, 7), ttfc: ttfc(0, 0) },
      ],
      instance: INSTANCE,
      now: T0,
    });
    await s.writeCalls({
      rows: [],
      rollups: [
        { endpointUid: uid, bucketStart: T0, latency: lat(18, 4), ttfc: ttfc(0, 2) },
        { endpointUid: uid, bucketStart: T0 + 10_000, latency: lat(5, 1), ttfc: ttfc(5, 1) },
      ],
      instance: INSTANCE,
      now: T0,
    });
    await s.writeCalls({
      rows: [],
      rollups: [{ endpointUid: uid, bucketStart: T0, latency: lat(3, 10), ttfc: ttfc(1, 1) }],
      instance: OTHER,
      now: T0,
    });
    const mine = await db.sql<{ latency_counts: number[]; ttfc_counts: number[] }>(
      'SELECT latency_counts, ttfc_counts FROM sg_rollups WHERE instance_id = $1 AND bucket_start = $2',
      [INSTANCE.id, T0],
    );
    expect(mine).toEqual([
      { latency_counts: Object.assign(lat(3, 3), { 18: 4 }), ttfc_counts: Object.assign(ttfc(0, 3), { 12: 1 }) },
    ]);
    expect(await s.rollups({ uid, from: T0, to: T0 + 20_000 })).toEqual([
      {
        bucketStart: T0,
        latency: Object.assign(lat(3, 13), { 18: 4 }),
        ttfc: Object.assign(ttfc(0, 3), { 1: 1, 12: 1 }),
      },
      { bucketStart: T0 + 10_000, latency: lat(5, 1), ttfc: ttfc(5, 1) },
    ]);
    expect(await db.num('SELECT count(*) FROM sg_rollups')).toBe(4);
  });

  it('adds count arrays of different lengths (the longer length)', async () => {
    const s = await db.opened();
    const uid = await register(s, def('finance', 'h1'));
    const write = (latency: number[], ttfc: number[]) =>
      s.writeCalls({
        rows: [],
        rollups: [{ endpointUid: uid, bucketStart: T0, latency, ttfc }],
        instance: INSTANCE,
        now: T0,
      });
    await write([1, 2], []);
    await write([1, 1, 1], [4]);
    expect(await s.rollups({ uid, from: T0, to: T0 + 1 })).toEqual([
      { bucketStart: T0, latency: [2, 3, 1], ttfc: [4] },
    ]);
  });

  it('writes 2,500 rows in one transaction (several INSERT statements)', async () => {
    const s = await db.opened();
    const uid = await register(s, def('finance', 'h1'));
    const rows = Array.from({ length: 2500 }, (_, i) => row(uid, T0 + i, { eventId: `e${i}`, latencyMs: i }));
    await s.writeCalls({ rows, rollups: [], instance: INSTANCE, now: T0 });
    const a = await s.aggregate({ uid, from: T0, to: T0 + 2500 });
    expect([a.count, a.latencyMax, a.latencyMean]).toEqual([2500, 2499, 1249.5]);
  });

  it('skips rows and rollups of endpoint records that no longer exist, keeping the others', async () => {
    const s = await db.opened();
    const uid = await register(s, def('finance', 'h1'));
    const gone = 'f'.repeat(32);
    await s.writeCalls({
      rows: [row(gone, T0), row(uid, T0 + 1)],
      rollups: [{ endpointUid: gone, bucketStart: T0, latency: [1], ttfc: [] }],
      instance: INSTANCE,
      now: T0,
    });
    expect(await db.sql('SELECT endpoint_uid FROM sg_calls')).toEqual([{ endpoint_uid: uid }]);
    expect(await db.num('SELECT count(*) FROM sg_rollups')).toBe(0);
  });

  it('stores text and JSON PostgreSQL would refuse (NUL, lone surrogates) with U+FFFD', async () => {
    const s = await db.opened();
    const uid = await register(s, def('finance', 'h1'));
    const r = row(uid, T0, {
      eventId: 'a\0b',
      outcome: 'error',
      errorCode: 'SG_ERR_MODEL_FAILED',
      errorMessage: 'bad \0 byte',
      inputs: { text: 'x\0y', lone: '\ud800!', pair: '😀', literal: '\\u0000' },
    });
    await s.writeCalls({ rows: [r], rollups: [], instance: INSTANCE, now: T0 });
    const [back] = await s.calls({ uid, limit: 1 });
    expect(back.eventId).toBe('a\uFFFDb');
    expect(back.errorMessage).toBe('bad \uFFFD byte');
    expect(back.inputs).toEqual({ text: 'x\uFFFDy', lone: '\uFFFD!', pair: '😀', literal: '\\u0000' });
  });
});

describePg('PostgresStore: retention (monitoring.md section 6)', () => {
  it('deletes old calls and rollups only, at most `limit` rows per table per call', async () => {
    const s = await db.opened();
    const uid = await register(s, def('finance', 'h1'));
    const old = [1, 2, 3, 4, 5].map((i) => row(uid, T0 - i * 1000));
    const fresh = [row(uid, T0), row(uid, T0 + 1000)];
    const rollup = (bucketStart: number) => ({ endpointUid: uid, bucketStart, latency: [1], ttfc: [0] });
    await s.writeCalls({
      rows: [...old, ...fresh],
      rollups: [rollup(T0 - 30_000), rollup(T0 - 20_000), rollup(T0 - 10_000), rollup(T0)],
      instance: INSTANCE,
      now: T0,
    });
    expect(await s.deleteBefore(T0, 2)).toBe(4);
    expect(await s.deleteBefore(T0, 2)).toBe(3);
    expect(await s.deleteBefore(T0, 2)).toBe(1);
    expect(await s.deleteBefore(T0, 2)).toBe(0);
    expect((await s.calls({ uid, limit: 10 })).map((c) => c.startedAt)).toEqual([T0 + 1000, T0]);
    expect((await s.rollups({ uid, from: 0, to: T0 + 1 })).map((r) => r.bucketStart)).toEqual([T0]);
    // endpoint records stay
    expect(await s.getEndpoint({ graph: 'support', name: 'finance', now: T0 })).toMatchObject({ uid, tag: 'latest' });
  });
});
