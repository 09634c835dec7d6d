// The record buffer and its writer as servegraph_monitoring_buffer_records sees them (monitoring.md section 5):
// writes start every flushIntervalMs or once flushBatchSize records wait, one at a time; a write that ends starts
// another only for a full batch, the interval or flush(), not for the few records that came meanwhile.
import { afterEach, describe, expect, test } from 'vitest';
import type { CallReport } from '../../src/monitoring/types.js';
import { RecordWriter } from '../../src/monitoring/writer.js';
import { sleep, waitFor } from '../support/core.js';

const writers: RecordWriter[] = [];
afterEach(async () => {
  await Promise.all(writers.splice(0).map((w) => w.close(0)));
});

function report(i: number): CallReport {
  return {
    endpoint: 'm',
    eventId: `e${i}`,
    startedAt: Date.now(),
    latencyMs: 1,
    queueMs: null,
    error: undefined,
    aborted: false,
    batchSize: 1,
    usage: undefined,
    input: undefined,
    output: undefined,
  };
}

/** A writer whose store takes `writeMs` per write; what it wrote and what the buffer gauge was told. */
function writer(o: { flushBatchSize: number; flushIntervalMs?: number; writeMs?: number }) {
  const batches: number[] = [];
  const gauge: number[] = [];
  const w = new RecordWriter(
    { bufferSize: 10_000, flushIntervalMs: o.flushIntervalMs ?? 60_000, flushBatchSize: o.flushBatchSize },
    {
      write: async (batch) => {
        batches.push(batch.length);
        await sleep(o.writeMs ?? 0);
      },
      dropped: () => {},
      failed: () => {},
      buffered: (n) => gauge.push(n),
    },
  );
  writers.push(w);
  return { w, batches, gauge };
}

describe('the record writer', () => {
  test('records that come while a write runs wait for a full batch, or flush()', async () => {
    const { w, batches, gauge } = writer({ flushBatchSize: 100, writeMs: 50 });
    for (let i = 0; i < 100; i++) w.add(report(i));
    await waitFor(() => batches.length === 1);
    // 130 more while the first write runs: a full batch, written as soon as the first write ends
    for (let i = 100; i < 230; i++) w.add(report(i));
    await waitFor(() => batches.length === 2);
    // 30 while the second write runs: not a batch; they wait once it ends
    for (let i = 230; i < 260; i++) w.add(report(i));
    await sleep(200);
    expect(batches).toEqual([100, 130]);
    expect(w.size).toBe(30);
    expect(gauge.at(-1)).toBe(30);
    await w.flush();
    expect(batches).toEqual([100, 130, 30]);
    expect(gauge.at(-1)).toBe(0);
  });

  test('fewer than a batch are written at the interval', async () => {
    const { w, batches } = writer({ flushBatchSize: 100, flushIntervalMs: 50 });
    for (let i = 0; i < 7; i++) w.add(report(i));
    expect(batches).toEqual([]);
    await waitFor(() => batches.length === 1, 5);
    expect(batches).toEqual([7]);
    expect(w.size).toBe(0);
  });
});
