// Streaming benchmark: servegraph's chunk path against a hand-written async-generator pipeline doing the same
// work, in one run with the same settings on both sides.
//
//   npm run bench:streaming                     build, then the full run (about 15-30 s)
//   node bench/streaming/run.mjs --quick        fewer iterations, for a smoke test
//   node bench/streaming/run.mjs --rounds=5     more rounds (default 3)
//
// 1. Chunks per second through 3 steps: an async generator producer -> map (x + 1) -> map (x * 2).
//    servegraph: three MapSteps, the reply consumed with `for await (… of server.testStream())`.
//    hand-written: `async function*` producer -> two mapping `async function*`s -> a `for await` consumer.
//    Each round reads STREAMS streams of CHUNKS chunks one after the other; the sum of the chunks is checked.
// 2. Added latency of the first chunk: the time from sending (testStream(), or building the pipeline) to the
//    first chunk in hand, p50 over many streams, servegraph minus hand-written.
// 3. Abort latency: the consumer reads 3 chunks and breaks; the time from the `break` to the producer's
//    ctx.signal 'abort' event (servegraph), or to its `finally` (hand-written: the generator's return()),
//    p50 and max over many streams.
// Each measure runs once per round, both sides in alternating order; the best round is kept.

import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createGraph, createMockServer, MapStep } from '../../dist/index.js';

const argv = process.argv.slice(2);
const flag = (name) => argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
const quick = flag('quick') !== undefined;
const rounds = Number(flag('rounds')?.split('=')[1] ?? (quick ? 1 : 3));
const scale = quick ? 0.1 : 1;

const CHUNKS = Math.round(100_000 * scale); // chunks per stream, throughput
const STREAMS = 5; // streams per throughput round
const FIRST = Math.round(5_000 * scale); // streams for the first-chunk latency
const ABORTS = Math.round(2_000 * scale); // streams for the abort latency

const expectedSum = (n) => 2 * ((n * (n - 1)) / 2 + n); // Σ (i + 1) * 2

// ---- servegraph ----

/** The 3-step graph; `onAbort(t)` is called when a producer's signal aborts, with performance.now(). */
function servegraphServer(onAbort) {
  const graph = createGraph({ name: 'bench-streaming' });
  graph
    .to(
      new MapStep({
        name: 'produce',
        handler: async function* (n, ctx) {
          if (onAbort) ctx.signal.addEventListener('abort', () => onAbort(performance.now()), { once: true });
          for (let i = 0; i < n; i++) yield i;
        },
      }),
    )
    .to(new MapStep({ name: 'plus', handler: (x) => x + 1 }))
    .to(new MapStep({ name: 'double', handler: (x) => x * 2 }))
    .respond();
  return createMockServer(graph, { logLevel: 'silent', maxConcurrency: 0 });
}

// ---- hand-written ----

async function* produce(n, onAbort) {
  try {
    for (let i = 0; i < n; i++) yield i;
  } finally {
    if (onAbort) onAbort(performance.now());
  }
}
async function* plus(src) {
  for await (const x of src) yield x + 1;
}
async function* double(src) {
  for await (const x of src) yield x * 2;
}
const handWritten = (n, onAbort) => double(plus(produce(n, onAbort)));

// ---- measures ----

async function throughput(open) {
  const start = performance.now();
  for (let s = 0; s < STREAMS; s++) {
    let sum = 0;
    for await (const c of open(CHUNKS)) sum += c;
    if (sum !== expectedSum(CHUNKS)) throw new Error(`wrong sum ${sum}`);
  }
  const seconds = (performance.now() - start) / 1000;
  return (STREAMS * CHUNKS) / seconds;
}

async function firstChunk(open) {
  const samples = new Array(FIRST);
  for (let i = 0; i < FIRST; i++) {
    const t0 = performance.now();
    const it = open(4)[Symbol.asyncIterator]();
    const r = await it.next();
    samples[i] = (performance.now() - t0) * 1000;
    if (r.value !== 2) throw new Error(`first chunk ${r.value}`);
    await it.return?.();
  }
  return percentile(samples, 0.5);
}

async function abortLatency(open, aborted) {
  const samples = [];
  for (let i = 0; i < ABORTS; i++) {
    aborted.t = undefined;
    let n = 0;
    let t0 = 0;
    for await (const _c of open(1_000_000)) {
      if (++n === 3) {
        t0 = performance.now();
        break;
      }
    }
    // the abort is usually seen before break returns; wait for it otherwise (bounded)
    const until = performance.now() + 1000;
    while (aborted.t === undefined && performance.now() < until) await new Promise((r) => setImmediate(r));
    if (aborted.t === undefined) throw new Error('the producer was never aborted');
    samples.push(Math.max(0, aborted.t - t0) * 1000);
  }
  return { p50: percentile(samples, 0.5), max: Math.max(...samples) };
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

// ---- run ----

const aborted = { t: undefined };
const server = servegraphServer((t) => {
  if (aborted.t === undefined) aborted.t = t;
});
await server.ready();
const sgOpen = (n) => server.testStream('/', n);
const hwOpen = (n) => handWritten(n);
const hwOpenAbort = (n) =>
  handWritten(n, (t) => {
    if (aborted.t === undefined) aborted.t = t;
  });

// warm-up: a fifth of a throughput stream on each side
for (const open of [sgOpen, hwOpen]) {
  let sum = 0;
  for await (const c of open(CHUNKS / 5)) sum += c;
  if (sum !== expectedSum(CHUNKS / 5)) throw new Error(`wrong sum ${sum}`);
}

const best = { sgTput: 0, hwTput: 0, sgFirst: Infinity, hwFirst: Infinity, sgAbort: undefined, hwAbort: undefined };
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? ['sg', 'hw'] : ['hw', 'sg'];
  for (const side of order) {
    if (side === 'sg') {
      best.sgTput = Math.max(best.sgTput, await throughput(sgOpen));
      best.sgFirst = Math.min(best.sgFirst, await firstChunk(sgOpen));
      const a = await abortLatency(sgOpen, aborted);
      if (best.sgAbort === undefined || a.p50 < best.sgAbort.p50) best.sgAbort = a;
    } else {
      best.hwTput = Math.max(best.hwTput, await throughput(hwOpen));
      best.hwFirst = Math.min(best.hwFirst, await firstChunk(hwOpen));
      const a = await abortLatency(hwOpenAbort, aborted);
      if (best.hwAbort === undefined || a.p50 < best.hwAbort.p50) best.hwAbort = a;
    }
  }
}
await server.close();

const fmt = (x, digits = 1) =>
  x >= 1000 ? Math.round(x).toLocaleString('en-US') : x >= 100 ? x.toFixed(0) : x.toFixed(digits);
const ratio = best.sgTput / best.hwTput;
const added = best.sgFirst - best.hwFirst;
const abortMs = best.sgAbort.max / 1000;
const met = (ok) => (ok ? 'met' : '**missed**');

console.log(
  `streaming benchmark: ${STREAMS} × ${CHUNKS.toLocaleString('en-US')} chunks per throughput round, ${FIRST} streams for the first chunk, ${ABORTS} for the abort; best of ${rounds} round(s)`,
);
console.log(`Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'})\n`);
console.log('| measure | servegraph | hand-written | servegraph vs hand-written | target | |');
console.log('|---|---:|---:|---:|---|---|');
console.log(
  `| chunks/s through 3 steps (producer → map → map) | ${fmt(best.sgTput)} | ${fmt(best.hwTput)} | ${(ratio * 100).toFixed(0)}% | ≥ 50% | ${met(ratio >= 0.5)} |`,
);
console.log(
  `| first chunk, µs p50 (send → first chunk) | ${fmt(best.sgFirst)} | ${fmt(best.hwFirst)} | +${fmt(added)} µs | ≤ +50 µs | ${met(added <= 50)} |`,
);
console.log(`| abort, µs p50 (break → producer aborted) | ${fmt(best.sgAbort.p50)} | ${fmt(best.hwAbort.p50)} | | | |`);
console.log(
  `| abort, µs max | ${fmt(best.sgAbort.max)} | ${fmt(best.hwAbort.max)} | | ≤ 50 ms | ${met(abortMs <= 50)} |`,
);
