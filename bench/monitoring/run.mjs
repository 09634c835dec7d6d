// Monitoring benchmark: the mock-server throughput of a 2-model graph (two asyncio models of 1 ms each, 50 events in
// flight) with monitoring on (a SQLite file, the default writer settings) against the same graph with tracking off,
// in one run, logging silent on both sides.
//
//   npm run bench:monitoring                build, then the full run (about 30 s)
//   node bench/monitoring/run.mjs --quick   fewer events, for a smoke test
//
// Each round runs both sides (alternating which goes first) over the same number of events; the best round of each
// side is kept. Throughput is events/s over the round; p99 is of per-event latency (send → reply).

import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createGraph, createMockServer, Model, ModelRunnerStep } from '../../dist/index.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const rounds = quick ? 1 : 3;
const EVENTS = quick ? 2000 : 10_000;
const IN_FLIGHT = 50;

class OneMs extends Model {
  async predictAsync(input) {
    await new Promise((r) => setTimeout(r, 1));
    return { ok: true, n: input.n };
  }
}

function graph() {
  const g = createGraph({ name: 'bench-monitoring' });
  const runner = new ModelRunnerStep({ name: 'runner' });
  runner.addModel({ endpointName: 'a', modelClass: OneMs, executionMechanism: 'asyncio' });
  runner.addModel({ endpointName: 'b', modelClass: OneMs, executionMechanism: 'asyncio' });
  g.to(runner).respond();
  return g;
}

async function run(tracking) {
  const server = createMockServer(graph(), { logLevel: 'silent', maxConcurrency: 0, tracking });
  await server.ready();
  const lat = [];
  let next = 0;
  const worker = async () => {
    while (next < EVENTS) {
      const n = next++;
      const t0 = performance.now();
      await server.test('/', { n });
      lat.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = (performance.now() - t0) / 1000;
  if (tracking !== false) await server.monitoring.flush();
  const dropped = (await server.monitoring.metricsText())
    .split('\n')
    .filter((l) => l.startsWith('servegraph_monitoring_dropped_records_total{'))
    .reduce((a, l) => a + Number(l.split(' ').at(-1)), 0);
  await server.close();
  lat.sort((a, b) => a - b);
  return {
    eps: EVENTS / seconds,
    p50: lat[Math.floor(lat.length / 2)],
    p99: lat[Math.floor(lat.length * 0.99)],
    dropped,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'sg-bench-mon-'));
const on = { store: `sqlite:${join(dir, 'bench.db')}` };
await run(on); // warm-up
await run(false);
const best = { on: undefined, off: undefined };
for (let r = 0; r < rounds; r++) {
  for (const side of r % 2 === 0 ? ['off', 'on'] : ['on', 'off']) {
    const res = await run(side === 'on' ? on : false);
    if (best[side] === undefined || res.eps > best[side].eps) best[side] = res;
  }
}
rmSync(dir, { recursive: true, force: true });

const f = (x) => x.toFixed(2);
const lost = 1 - best.on.eps / best.off.eps;
const p99 = best.on.p99 / best.off.p99;
const met = (ok) => (ok ? 'met' : '**missed**');
console.log(`monitoring benchmark: ${EVENTS} events per run, ${IN_FLIGHT} in flight, best of ${rounds} round(s)`);
console.log(`Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'})\n`);
console.log('| measure | monitoring on (SQLite file) | tracking off | on vs off | target | |');
console.log('|---|---:|---:|---:|---|---|');
console.log(
  `| events/s | ${Math.round(best.on.eps)} | ${Math.round(best.off.eps)} | ${(lost * 100).toFixed(1)}% lost | ≤ 5% lost | ${met(lost <= 0.05)} |`,
);
console.log(
  `| latency p50 / p99 ms | ${f(best.on.p50)} / ${f(best.on.p99)} | ${f(best.off.p50)} / ${f(best.off.p99)} | p99 ${p99.toFixed(2)}x | p99 ≤ 1.1x | ${met(p99 <= 1.1)} |`,
);
console.log(`| records dropped | ${best.on.dropped} | | | | |`);
