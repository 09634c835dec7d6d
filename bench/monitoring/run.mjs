// Monitoring benchmark: the mock-server throughput of a 2-model graph (two asyncio models of 1 ms each, 50 events in
// flight) with monitoring on (a SQLite file, the default writer settings) against the same graph with tracking off,
// in one run, logging silent on both sides.
//
//   npm run bench:monitoring                build, then the full run (about 60 s)
//   node bench/monitoring/run.mjs --quick   fewer events, for a smoke test
//   node bench/monitoring/run.mjs --rounds=9
//
// Each round runs both sides (alternating which goes first) over the same number of events. Throughput is events/s
// over the round; p99 is of per-event latency (send → reply). Each side reports its best round and the median of its
// rounds: on a shared machine the best is what the code can do, the median what it did. CPU is per event, of the
// whole process (the SQLite worker thread included) and of the main thread alone (Linux), from the rounds' medians:
// it moves less with other load than wall time does.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createGraph, createMockServer, Model, ModelRunnerStep } from '../../dist/index.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const rounds = Number(argv.find((a) => a.startsWith('--rounds='))?.split('=')[1] ?? (quick ? 1 : 5));
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

/** CPU time of the main thread in µs (Linux: /proc; elsewhere undefined). */
function mainThreadCpu() {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10_000; // clock ticks of 10 ms
  } catch {
    return undefined;
  }
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
  const main0 = mainThreadCpu();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = (performance.now() - t0) / 1000;
  // what the events left to write counts: CPU up to the flush
  if (tracking !== false) await server.monitoring.flush();
  const cpu = process.cpuUsage(cpu0);
  const main = main0 === undefined ? undefined : mainThreadCpu() - main0;
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
    cpu: (cpu.user + cpu.system) / EVENTS,
    main: main === undefined ? undefined : main / EVENTS,
    dropped,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'sg-bench-mon-'));
const on = { store: `sqlite:${join(dir, 'bench.db')}` };
await run(on); // warm-up
await run(false);
const all = { on: [], off: [] };
for (let r = 0; r < rounds; r++) {
  for (const side of r % 2 === 0 ? ['off', 'on'] : ['on', 'off']) all[side].push(await run(side === 'on' ? on : false));
}
rmSync(dir, { recursive: true, force: true });

const median = (xs) => {
  const v = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  return v.length === 0 ? undefined : v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const summary = (rs) => {
  const best = rs.reduce((a, b) => (b.eps > a.eps ? b : a));
  return {
    best,
    eps: median(rs.map((r) => r.eps)),
    p99: median(rs.map((r) => r.p99)),
    cpu: median(rs.map((r) => r.cpu)),
    main: median(rs.map((r) => r.main)),
    dropped: rs.reduce((a, r) => a + r.dropped, 0),
  };
};
const s = { on: summary(all.on), off: summary(all.off) };

const f = (x) => (x === undefined ? 'n/a' : x.toFixed(2));
const lost = 1 - s.on.best.eps / s.off.best.eps;
const lostMedian = 1 - s.on.eps / s.off.eps;
const p99 = s.on.best.p99 / s.off.best.p99;
const p99Median = s.on.p99 / s.off.p99;
const met = (ok) => (ok ? 'met' : '**missed**');
const pct = (x) => `${(x * 100).toFixed(1)}%`;
console.log(`monitoring benchmark: ${EVENTS} events per run, ${IN_FLIGHT} in flight, ${rounds} round(s)`);
console.log(`Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'})\n`);
console.log('| measure | monitoring on (SQLite file) | tracking off | on vs off | target | |');
console.log('|---|---:|---:|---:|---|---|');
console.log(
  `| events/s, best round | ${Math.round(s.on.best.eps)} | ${Math.round(s.off.best.eps)} | ${pct(lost)} lost | ≤ 5% lost | ${met(lost <= 0.05)} |`,
);
console.log(
  `| events/s, median of rounds | ${Math.round(s.on.eps)} | ${Math.round(s.off.eps)} | ${pct(lostMedian)} lost | | |`,
);
console.log(
  `| latency p50 / p99 ms, best round | ${f(s.on.best.p50)} / ${f(s.on.best.p99)} | ${f(s.off.best.p50)} / ${f(s.off.best.p99)} | p99 ${p99.toFixed(2)}x | p99 ≤ 1.1x | ${met(p99 <= 1.1)} |`,
);
console.log(
  `| latency p99 ms, median of rounds | ${f(s.on.p99)} | ${f(s.off.p99)} | p99 ${p99Median.toFixed(2)}x | | |`,
);
console.log(
  `| CPU µs/event, all threads (median) | ${f(s.on.cpu)} | ${f(s.off.cpu)} | +${f(s.on.cpu - s.off.cpu)} | | |`,
);
console.log(
  `| CPU µs/event, main thread (median) | ${f(s.on.main)} | ${f(s.off.main)} | ${s.on.main === undefined ? '' : `+${f(s.on.main - s.off.main)}`} | | |`,
);
console.log(`| records dropped | ${s.on.dropped} | | | | |`);
