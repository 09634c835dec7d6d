// HTTP benchmark: servegraph's HTTP trigger against a bare fastify route doing the same work, in one run, with
// autocannon at 50 connections; logging off on both sides; each server in a process of its own.
//
//   npm run bench:http                      build, then the full run (about 2 minutes)
//   node bench/http/run.mjs --quick         short runs, for a smoke test
//   node bench/http/run.mjs --rounds=3 --seconds=10
//
// 1. JSON: POST / with {"a":1,"b":"text"}: a one-step graph (MapStep echo) vs a fastify route returning the body.
// 2. SSE: POST / with Accept: text/event-stream: a graph whose generator step yields 100 chunks vs a fastify route
//    writing the same 100 `event: chunk` lines and the done event; chunks/s = responses/s × 100.
//    The same with one chunk per event-loop turn (20 chunks, setImmediate between them on both sides, as tokens
//    arriving from a model): servegraph writes what a turn produced at the end of that turn, so the 100-chunk
//    stream above is one write, while here every chunk is its own write on both sides. Reported, no bar.
// 3. Disconnect to abort: a client reads the first chunk of a slow stream and destroys its socket; the time until
//    the step's ctx.signal fires (servegraph in this process), p50 and max.
// Rounds alternate which side runs first; the best round of each side is kept. On Linux with `taskset` the server
// runs on CPU 0 and the load generator on CPU 1 (both sides alike), so that they do not take turns on one core.

import { execFileSync, spawn } from 'node:child_process';
import { request } from 'node:http';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createGraph, MapStep, serve } from '../../dist/index.js';

const argv = process.argv.slice(2);
const flag = (name) => argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
const quick = flag('quick') !== undefined;
const rounds = Number(flag('rounds')?.split('=')[1] ?? (quick ? 1 : 2));
const seconds = Number(flag('seconds')?.split('=')[1] ?? (quick ? 3 : 10));
const CONNECTIONS = 50;
const ABORTS = quick ? 50 : 300;

const pinned = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return cpus().length >= 2;
  } catch {
    return false;
  }
})();
/** [command, args] running `script` with node, on CPU `cpu` when pinning works */
const nodeOn = (cpu, args) =>
  pinned ? ['taskset', ['-c', String(cpu), process.execPath, ...args]] : [process.execPath, args];

function startSide(kind) {
  return new Promise((resolve, reject) => {
    const [cmd, args] = nodeOn(0, [new URL('./server.mjs', import.meta.url).pathname, kind]);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.setEncoding('utf8');
    child.stdout.once('data', (line) => resolve({ url: line.trim(), stop: () => child.kill('SIGKILL') }));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
  });
}

async function load(kind, accept) {
  const side = await startSide(kind);
  try {
    const [cmd, args] = nodeOn(1, [
      new URL('./load.mjs', import.meta.url).pathname,
      side.url,
      seconds,
      CONNECTIONS,
      accept,
    ]);
    const r = JSON.parse(execFileSync(cmd, args, { encoding: 'utf8' }));
    if (r.bad > 0) throw new Error(`${kind}: ${r.bad} failed requests`);
    return r;
  } finally {
    side.stop();
  }
}

const JSON_HEADERS = '-';
const SSE_ACCEPT = 'text/event-stream';
const SSE_HEADERS = { 'content-type': 'application/json', accept: SSE_ACCEPT };
const best = {};
const keep = (k, r) => {
  if (best[k] === undefined || r.rps > best[k].rps) best[k] = r;
};
for (let i = 0; i < rounds; i++) {
  const pairs = [
    ['fastify', 'servegraph', JSON_HEADERS],
    ['fastify-sse', 'servegraph-sse', SSE_ACCEPT],
    ['fastify-sse-turns', 'servegraph-sse-turns', SSE_ACCEPT],
  ];
  for (const [base, sg, headers] of pairs) {
    const order = i % 2 === 0 ? [base, sg] : [sg, base];
    for (const k of order) keep(k, await load(k, headers));
  }
}

// ---- disconnect to abort ----
async function abortLatency() {
  let fired;
  const graph = createGraph({ name: 'bench-abort' });
  graph
    .to(
      new MapStep({
        name: 'slow',
        handler: async function* (_body, ctx) {
          ctx.signal.addEventListener('abort', () => fired?.(performance.now()), { once: true });
          yield 'first';
          await new Promise((r) => setTimeout(r, 60_000).unref());
          yield 'never';
        },
      }),
    )
    .respond();
  const app = await serve(graph, { port: 0, logger: false, openai: false });
  const times = [];
  for (let i = 0; i < ABORTS; i++) {
    const abortedAt = new Promise((r) => {
      fired = r;
    });
    const cutAt = await new Promise((resolve, reject) => {
      const req = request(`${app.url}/`, { method: 'POST', headers: SSE_HEADERS }, (res) => {
        res.once('data', () => {
          const t = performance.now();
          req.destroy();
          resolve(t);
        });
      });
      req.once('error', () => {});
      req.end('{}');
      setTimeout(() => reject(new Error('no first chunk')), 5000).unref();
    });
    times.push((await abortedAt) - cutAt);
  }
  await app.close({ graceMs: 0 });
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)], max: times.at(-1) };
}
const abort = await abortLatency();

const n = (x) => Math.round(x).toLocaleString('en-US');
const met = (ok) => (ok ? 'met' : '**missed**');
const jsonRatio = best.servegraph.rps / best.fastify.rps;
const p99Ratio = best.servegraph.p99 / best.fastify.p99;
const sseRatio = best['servegraph-sse'].rps / best['fastify-sse'].rps;
console.log(
  `http benchmark: autocannon, ${CONNECTIONS} connections, ${seconds} s per run, best of ${rounds} round(s)${pinned ? ', server on CPU 0 and load on CPU 1' : ''}`,
);
console.log(`Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'})\n`);
console.log('| measure | servegraph | bare fastify | servegraph vs fastify | target | |');
console.log('|---|---:|---:|---:|---|---|');
console.log(
  `| JSON echo, requests/s | ${n(best.servegraph.rps)} | ${n(best.fastify.rps)} | ${(jsonRatio * 100).toFixed(0)}% | ≥ 90% | ${met(jsonRatio >= 0.9)} |`,
);
console.log(
  `| JSON echo, latency p50 / p99 ms | ${best.servegraph.p50} / ${best.servegraph.p99} | ${best.fastify.p50} / ${best.fastify.p99} | p99 ${p99Ratio.toFixed(2)}x | p99 ≤ 1.2x | ${met(p99Ratio <= 1.2)} |`,
);
console.log(
  `| SSE, 100-chunk streams, chunks/s | ${n(best['servegraph-sse'].rps * 100)} | ${n(best['fastify-sse'].rps * 100)} | ${(sseRatio * 100).toFixed(0)}% | ≥ 90% | ${met(sseRatio >= 0.9)} |`,
);
const turnsRatio = best['servegraph-sse-turns'].rps / best['fastify-sse-turns'].rps;
console.log(
  `| SSE, one chunk per event-loop turn (20-chunk streams), chunks/s | ${n(best['servegraph-sse-turns'].rps * 20)} | ${n(best['fastify-sse-turns'].rps * 20)} | ${(turnsRatio * 100).toFixed(0)}% | (reported) | |`,
);
console.log(
  `| disconnect → abort, ms p50 / max | ${abort.p50.toFixed(2)} / ${abort.max.toFixed(2)} | | | max ≤ 50 ms | ${met(abort.max <= 50)} |`,
);
