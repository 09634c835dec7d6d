// Server CPU time per request, the steadier measure on a shared VM (requests/s follow other tenants' load; the
// CPU a request costs the server much less so):
//   node bench/http/cpu.mjs [--requests=40000] [--rounds=3] [--sides=fastify,servegraph,fastify-sse,servegraph-sse]
// Each side: a server process pinned to CPU 0 (bench/http/server.mjs), a warm-up, then a fixed number of requests
// from autocannon (this process, pinned to CPU 1) at 50 connections; the server reports its CPU time (user +
// system) over exactly those requests. The best (lowest) round of each side is kept.
import { execFileSync, spawn } from 'node:child_process';
import autocannon from 'autocannon';

const argv = process.argv.slice(2);
const opt = (name, dflt) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const requests = Number(opt('requests', '40000'));
const rounds = Number(opt('rounds', '3'));
const sides = opt('sides', 'fastify,servegraph,fastify-sse,servegraph-sse').split(',');
/** --profile=<dir>: a CPU profile of each side's measured window, <dir>/<side>.cpuprofile */
const profileDir = opt('profile', undefined);

const pinned = (() => {
  try {
    execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function start(kind) {
  const server = new URL('./server.mjs', import.meta.url).pathname;
  const nodeArgs = [server, kind];
  const env =
    profileDir === undefined ? process.env : { ...process.env, SG_HTTP_PROFILE: `${profileDir}/${kind}.cpuprofile` };
  const [cmd, args] = pinned ? ['taskset', ['-c', '0', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (line) => resolve({ child, url: line.trim() }));
    child.once('error', reject);
  });
}

const cannon = (url, sse, amount) =>
  autocannon({
    url,
    method: 'POST',
    connections: 50,
    amount,
    headers: sse
      ? { 'content-type': 'application/json', accept: 'text/event-stream' }
      : { 'content-type': 'application/json' },
    body: '{"a":1,"b":"text"}',
  });

async function measure(kind) {
  const sse = kind.endsWith('-sse');
  const n = sse ? Math.round(requests / 20) : requests;
  const { child, url } = await start(kind);
  try {
    await cannon(url, sse, Math.round(n / 2)); // warm-up: the JIT settles
    child.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    const r = await cannon(url, sse, n);
    const wallMs = performance.now() - t0;
    const [cpuMs, userMs, sysMs] = await new Promise((resolve) => {
      let out = '';
      child.stderr.on('data', (d) => {
        out += d;
      });
      child.once('exit', () => resolve(out.trim().split('\n').at(-1).split(' ').map(Number)));
      child.kill('SIGINT');
    });
    if (r.non2xx + r.errors > 0) throw new Error(`${kind}: ${r.non2xx + r.errors} failed requests`);
    const per = (ms) => (ms * 1000) / n;
    return { usPerReq: per(cpuMs), user: per(userMs), sys: per(sysMs), rps: (n * 1000) / wallMs, p99: r.latency.p99 };
  } finally {
    child.kill('SIGKILL');
  }
}

const best = {};
for (let i = 0; i < rounds; i++) {
  for (const kind of i % 2 === 0 ? sides : [...sides].reverse()) {
    const m = await measure(kind);
    console.error(
      `round ${i + 1} ${kind}: ${m.usPerReq.toFixed(1)} µs/request (user ${m.user.toFixed(1)}, system ${m.sys.toFixed(1)}), ${Math.round(m.rps)} req/s`,
    );
    if (best[kind] === undefined || m.usPerReq < best[kind].usPerReq) best[kind] = m;
  }
}
console.log(`server CPU per request (best of ${rounds}, ${requests} JSON requests / ${requests / 20} SSE streams)`);
for (const k of sides) console.log(`${k.padEnd(16)} ${best[k].usPerReq.toFixed(1)} µs`);
const ratio = (a, b) => (best[a] && best[b] ? `${((best[b].usPerReq / best[a].usPerReq) * 100).toFixed(0)}%` : '-');
console.log(`JSON: fastify's CPU per request is ${ratio('servegraph', 'fastify')} of servegraph's`);
console.log(`SSE:  fastify's CPU per stream is ${ratio('servegraph-sse', 'fastify-sse')} of servegraph's`);
