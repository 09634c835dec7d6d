import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createGraph, ModelRunnerStep } from '../../src/index.js';
import { rejectsSg, runnerGraph, serve, sleep } from './helpers.js';
import { CALL_FIELDS, ISO, monitored, readStore, Scripted } from './monitoring-fixtures.js';

describe('call records: server.monitoring.calls()', () => {
  test('exactly the fields of monitoring.md section 4, newest first, with limit and outcome', async () => {
    const s = monitored();
    const before = Date.now();
    for (let i = 0; i < 5; i++)
      await s.test('/', { in: { v: i, fail: i === 3 ? 'bad' : undefined }, n: i }, { id: `e${i}` });
    const uid = (await s.monitoring.getEndpoint('scripted')).uid;
    const calls = await s.monitoring.calls('scripted');
    expect(calls.map((c) => c.eventId)).toEqual(['e4', 'e3', 'e2', 'e1', 'e0']);
    for (const c of calls) {
      expect(Object.keys(c).sort()).toEqual(CALL_FIELDS);
      expect(c.endpointUid).toBe(uid);
      expect(c.startedAt).toMatch(ISO);
      expect(Date.parse(c.startedAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(c.latencyMs).toBeGreaterThanOrEqual(0);
      expect(typeof c.queueMs).toBe('number');
      expect(c).toMatchObject({
        streamed: false,
        ttfcMs: null,
        chunks: null,
        batchSize: 1,
        usage: null,
        promptTokens: null,
        inputs: null,
        outputs: null,
        usageEstimated: false,
      });
    }
    expect(calls[1]).toMatchObject({ outcome: 'error', errorCode: 'SG_ERR_MODEL_FAILED' });
    expect(calls[1].errorMessage).toContain('TypeError: bad');
    expect(calls[0]).toMatchObject({ outcome: 'ok', errorCode: null, errorMessage: null });
    expect((await s.monitoring.calls('naive'))[0].queueMs).toBeNull();
    expect((await s.monitoring.calls('pooled')).map((c) => c.outcome)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect((await s.monitoring.calls('scripted', { limit: 2 })).map((c) => c.eventId)).toEqual(['e4', 'e3']);
    expect((await s.monitoring.calls('scripted', { outcome: 'error' })).map((c) => c.eventId)).toEqual(['e3']);
    expect(await s.monitoring.calls('scripted', { outcome: 'aborted' })).toEqual([]);
  });

  test('recordUsage: the last report wins; total is computed when missing; failed calls keep their usage', async () => {
    const s = monitored();
    const usage = [
      { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      { prompt_tokens: 10, completion_tokens: 5, estimated: true },
    ];
    await s.test('/', { in: { usage } }, { id: 'u1' });
    await s.test(
      '/',
      { in: { usage: [{ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 }], fail: 'x' } },
      { id: 'u2' },
    );
    const [failed, ok] = await s.monitoring.calls('scripted');
    expect(ok).toMatchObject({
      promptTokens: 10,
      completionTokens: 5,
      totalTokens: 15,
      usageEstimated: true,
      usage: usage[1],
    });
    expect(failed).toMatchObject({
      outcome: 'error',
      promptTokens: 7,
      completionTokens: 3,
      totalTokens: 10,
      usageEstimated: false,
    });
    await sleep(5);
    const stats = await s.monitoring.stats('scripted');
    expect(stats.tokens).toEqual({ prompt: 17, completion: 8, total: 25, estimated: true });
  });

  test('recordIo keeps the input (the value at inputPath) and the output', async () => {
    const s = monitored({ tracking: { recordIo: true } });
    await s.test('/', { in: { v: 'hello' }, other: 1 });
    expect((await s.monitoring.calls('scripted'))[0]).toMatchObject({
      inputs: { v: 'hello' },
      outputs: { echo: 'hello' },
    });
  });

  test('ioSampleRate 0 keeps no inputs or outputs', async () => {
    const { graph } = runnerGraph((r) =>
      r.addModel({ endpointName: 'm', modelClass: Scripted, executionMechanism: 'asyncio' }),
    );
    graph.setTracking({ recordIo: true, ioSampleRate: 0 });
    const s = serve(graph);
    await s.test('/', { v: 1 });
    expect((await s.monitoring.calls('m'))[0]).toMatchObject({ inputs: null, outputs: null, outcome: 'ok' });
  });

  test('long error messages are cut at 500 characters', async () => {
    const s = monitored();
    await s.test('/', { in: { long: true } });
    const [c] = await s.monitoring.calls('scripted');
    expect(c.errorMessage).toHaveLength(500);
  });

  test('a call whose signal fired before it ended is aborted, with the reason code; a model timeout is an error', async () => {
    const g = createGraph();
    const r = new ModelRunnerStep({ name: 'runner', raiseException: false });
    r.addModel({ endpointName: 'obeys', modelClass: Scripted, executionMechanism: 'asyncio' });
    r.addModel({ endpointName: 'limited', modelClass: Scripted, executionMechanism: 'asyncio', timeoutMs: 50 });
    g.to(r).respond();
    const file = `sqlite:${join(mkdtempSync(join(tmpdir(), 'sg-mon-')), 'abort.db')}`;
    const s = serve(g, { tracking: { store: file } });
    await s.test('/', { ms: 300 });
    const [t] = await s.monitoring.calls('limited');
    expect(t).toMatchObject({ outcome: 'error', errorCode: 'SG_ERR_MODEL_TIMEOUT' });
    const pending = s.test('/', { obey: true }).catch(() => undefined);
    await sleep(50);
    await s.close({ graceMs: 50 });
    await pending;
    // written before the store closed with the server: read the file as the CLI does
    const [a] = await readStore(file, async (st) => {
      const [e] = (await st.listEndpoints({ all: false, now: Date.now() })).filter((x) => x.name === 'obeys');
      return st.calls({ uid: e.uid!, limit: 1 });
    });
    expect(a).toMatchObject({ outcome: 'aborted', errorCode: 'SG_ERR_SERVER_CLOSED' });
  });

  test('query errors: SG_ERR_MONITOR_QUERY and SG_ERR_ENDPOINT_NOT_FOUND', async () => {
    const s = monitored();
    await s.ready();
    for (const limit of [0, 1001, 1.5, Number.NaN])
      await rejectsSg(s.monitoring.calls('scripted', { limit }), 'SG_ERR_MONITOR_QUERY');
    await rejectsSg(s.monitoring.calls('scripted', { outcome: 'bad' as never }), 'SG_ERR_MONITOR_QUERY');
    for (const window of ['5x', '1s', '9s', '0m', '15', '', '366d'])
      await rejectsSg(s.monitoring.stats('scripted', { window }), 'SG_ERR_MONITOR_QUERY');
    await rejectsSg(s.monitoring.listEndpoints({ window: 'nope' }), 'SG_ERR_MONITOR_QUERY');
    for (const p of [s.monitoring.calls('nope'), s.monitoring.stats('nope'), s.monitoring.getEndpoint('nope')]) {
      const err = await rejectsSg(p, 'SG_ERR_ENDPOINT_NOT_FOUND');
      expect(err.message).toContain('nope');
    }
    expect((await s.monitoring.calls('scripted', { limit: 1000 })).length).toBe(0);
  });
});
