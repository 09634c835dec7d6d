// A SQLite file that disappears (monitoring.md section 5): degraded, store_error drops, reopened anew.
import { existsSync, rmSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { waitFor } from '../support/core.js';
import { parseMetrics, value } from './metrics-text.js';
import { calls, start, tempStore } from './monitor-fixtures.js';

function removeDb(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
}

async function health(url: string): Promise<string> {
  return ((await (await fetch(`${url}/healthz`)).json()) as { tracking: string }).tracking;
}

describe('a store file that goes away', () => {
  test('calls still answer; after flush() tracking is degraded and store_error drops are counted', async () => {
    const { url, file } = tempStore();
    // records are written by flush() only: the four calls after the file goes are then one flush, all dropped
    // (with a short interval a timer flush could take some of them first, and the rest wait for the reopen)
    const app = await start({}, { tracking: { store: url, flushIntervalMs: 60_000 } });
    expect(await calls(app, 3)).toEqual([200, 200, 200]);
    await app.monitoring.flush();
    expect(existsSync(file)).toBe(true);
    expect(await health(app.url)).toBe('on');
    removeDb(file);
    expect(await calls(app, 4)).toEqual([200, 200, 200, 200]);
    await app.monitoring.flush();
    await waitFor(() => app.monitoring.trackingState === 'degraded', 15);
    expect(await health(app.url)).toBe('degraded');
    const e = parseMetrics(await app.monitoring.metricsText());
    expect(value(e, 'servegraph_monitoring_dropped_records_total', { reason: 'store_error' })).toBeGreaterThanOrEqual(
      4,
    );
    expect(
      value(e, 'servegraph_model_requests_total', { graph: 'shop', step: 'runner', endpoint: 'm', outcome: 'ok' }),
    ).toBe(7);
    // it never writes on into a file no path names, and does not recreate the file before a reopen
    expect(existsSync(file)).toBe(false);
  }, 30_000);

  test('with reopenIntervalMs 50 tracking turns on again and new records go to a recreated file', async () => {
    const { url, file } = tempStore();
    const app = await start({}, { tracking: { store: url, flushIntervalMs: 20, reopenIntervalMs: 50 } });
    await calls(app, 2);
    await app.monitoring.flush();
    removeDb(file);
    await calls(app, 2);
    await app.monitoring.flush().catch(() => {});
    let sawDegraded = app.monitoring.trackingState === 'degraded';
    const e0 = parseMetrics(await app.monitoring.metricsText());
    const storeErrors = value(e0, 'servegraph_monitoring_dropped_records_total', { reason: 'store_error' }) ?? 0;
    sawDegraded ||= storeErrors > 0;
    expect(sawDegraded).toBe(true);
    await waitFor(() => app.monitoring.trackingState === 'on' && existsSync(file), 15);
    expect(await calls(app, 3)).toEqual([200, 200, 200]);
    await app.monitoring.flush();
    expect(app.monitoring.trackingState).toBe('on');
    expect(existsSync(file)).toBe(true);
    const stats = await app.monitoring.stats('m', { window: '1m' });
    expect(stats.count).toBe(3);
    expect((await app.monitoring.getEndpoint('m')).tag).toBe('latest');
  }, 30_000);
});
