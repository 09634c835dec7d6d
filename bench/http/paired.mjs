// The HTTP benchmark in pairs: servegraph and bare fastify served at the same time, both pinned to CPU 0, each
// loaded by its own autocannon (50 connections) from this process on CPU 1.
//
//   npm run bench:http:paired                 build, then 8 rounds of 5 s per pair (about 4 minutes)
//   node bench/http/paired.mjs --rounds=4 --seconds=3 --warmup=5
//   node bench/http/paired.mjs --cases=decompose  the JSON gap in two: servegraph's fastify configuration, its own work
//                                                 (cases: json, immediate, coalesce, sse, turns, config, work;
//                                                 decompose = json,config,work; the default json,immediate,sse,turns)
//
// Why: this VM's speed drifts by ±25% between runs of the same code, which swamps a 10% difference measured one
// side after the other (bench/http/run.mjs). Two servers sharing one core at the same moment see the same
// machine: the scheduler gives each half of the core, so the ratio of their requests/s is the ratio of their
// CPU cost per request, and it holds within a few percent from round to round while the absolute figures swing.
// Each server also reports its CPU time over the measured window (µs per request, user + system).
import { execFileSync, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import autocannon from 'autocannon';

const argv = process.argv.slice(2);
const opt = (name, dflt) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const rounds = Number(opt('rounds', '8'));
const seconds = Number(opt('seconds', '5'));
/** both servers under load before measuring: their JITs settle (each server has half a core meanwhile) */
const warmup = Number(opt('warmup', '5'));
const CONNECTIONS = 50;

const pinned = (() => {
  try {
    execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
    return cpus().length >= 2;
  } catch {
    return false;
  }
})();

function start(kind) {
  const args = [new URL('./server.mjs', import.meta.url).pathname, kind];
  const [cmd, argList] = pinned ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argList, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (line) => resolve({ child, url: line.trim() }));
    child.once('error', reject);
  });
}

/** the server's CPU ms since SIGUSR2, which it prints on SIGINT (server.mjs) */
function cpuMs(child) {
  return new Promise((resolve) => {
    let out = '';
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.once('exit', () => resolve(Number(out.trim().split('\n').at(-1).split(' ')[0])));
    child.kill('SIGINT');
  });
}

const cannon = (url, accept, duration) =>
  autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration,
    headers: accept ? { 'content-type': 'application/json', accept } : { 'content-type': 'application/json' },
    body: '{"a":1,"b":"text"}',
  });

async function round(sg, base, accept) {
  const a = await start(sg);
  const b = await start(base);
  try {
    await Promise.all([cannon(a.url, accept, warmup), cannon(b.url, accept, warmup)]);
    a.child.kill('SIGUSR2');
    b.child.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 50));
    const [ra, rb] = await Promise.all([cannon(a.url, accept, seconds), cannon(b.url, accept, seconds)]);
    if (ra.non2xx + ra.errors + rb.non2xx + rb.errors > 0) throw new Error(`${sg}/${base}: failed requests`);
    const [ca, cb] = await Promise.all([cpuMs(a.child), cpuMs(b.child)]);
    const req = (r) => r.requests.total;
    return {
      rpsRatio: req(ra) / req(rb),
      cost: [(ca * 1000) / req(ra), (cb * 1000) / req(rb)],
      p99: [ra.latency.p99, rb.latency.p99],
    };
  } finally {
    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
  }
}

const median = (xs) => {
  const v = [...xs].sort((x, y) => x - y);
  return v.length % 2 === 1 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

const CASES = {
  json: ['JSON echo', 'servegraph', 'fastify', undefined],
  // the same with each reply written as soon as it is decided, not with the others of its turn (docs/http.md)
  immediate: ['JSON echo, coalesceRepliesMs: 0', 'servegraph-immediate', 'fastify', undefined],
  coalesce: [
    'JSON echo: servegraph / servegraph with coalesceRepliesMs: 0',
    'servegraph',
    'servegraph-immediate',
    undefined,
  ],
  sse: ['SSE, 100-chunk streams', 'servegraph-sse', 'fastify-sse', 'text/event-stream'],
  turns: ['SSE, one chunk per turn', 'servegraph-sse-turns', 'fastify-sse-turns', 'text/event-stream'],
  // the JSON gap in two: fastify configured as servegraph configures it (server.mjs) against bare fastify, then
  // servegraph against that (its own work per request)
  config: [
    'JSON echo: fastify as servegraph configures it / bare fastify',
    'fastify-as-servegraph',
    'fastify',
    undefined,
  ],
  // servegraph with its replies written as decided, as fastify-as-servegraph writes them: the coalescing of
  // replies (case coalesce) is not servegraph's work per request
  work: [
    'JSON echo: servegraph (coalesceRepliesMs: 0) / fastify as servegraph configures it',
    'servegraph-immediate',
    'fastify-as-servegraph',
    undefined,
  ],
};
const caseNames = opt('cases', 'json,immediate,sse,turns').replace('decompose', 'json,config,work').split(',');
const unknown = caseNames.filter((c) => !Object.hasOwn(CASES, c));
if (unknown.length > 0) {
  console.error(`unknown case(s) ${unknown.join(', ')}: the cases are ${Object.keys(CASES).join(', ')}, decompose`);
  process.exit(2);
}
const cases = caseNames.map((c) => CASES[c]);
console.log(
  `paired http benchmark: both servers at once${pinned ? ' on CPU 0, load on CPU 1' : ''}, autocannon ${CONNECTIONS} connections each, ${rounds} rounds of ${seconds} s after ${warmup} s of warm-up; Node ${process.version}`,
);
console.log(
  '\n| case (A / B: servegraph / fastify unless named) | A / B requests/s (median, min-max) | CPU µs per request, A / B (median) | p99 ms, A / B (median) |',
);
console.log('|---|---:|---:|---:|');
for (const [name, sg, base, accept] of cases) {
  const rows = [];
  for (let i = 0; i < rounds; i++) rows.push(await round(sg, base, accept));
  const ratios = rows.map((r) => r.rpsRatio);
  const pct = (x) => `${(x * 100).toFixed(0)}%`;
  console.log(
    `| ${name} | ${pct(median(ratios))} (${pct(Math.min(...ratios))}-${pct(Math.max(...ratios))}) | ${median(rows.map((r) => r.cost[0])).toFixed(1)} / ${median(rows.map((r) => r.cost[1])).toFixed(1)} | ${median(rows.map((r) => r.p99[0]))} / ${median(rows.map((r) => r.p99[1]))} |`,
  );
}
