// Executors benchmark: servegraph's WorkerPool against the raw floors, measured in the same run.
//
//   npm run bench:executors                         build, then run everything (about 1-2 minutes)
//   node bench/executors/run.mjs --quick            fewer iterations, for a smoke test
//   node bench/executors/run.mjs --rounds=9         more rounds (default 5)
//   node bench/executors/run.mjs --only=cpu         one part only: roundtrip or cpu
//   node bench/executors/run.mjs --write            also write the table into bench/RESULTS.md ("executors")
//
// Round trip: a no-op model called serially (one call at a time, each await timed with performance.now(): p50,
// p99, and calls/s = calls / total time), through WorkerPool kind 'thread' (1 worker) and kind 'process'
// (1 worker), against the raw floors with the same serialization: a bare piscina task (1 thread, structured
// clone) and a bare child_process.fork IPC round trip (serialization: 'advanced'). The four variants run
// interleaved in blocks of 250 calls, so that slow phases of the machine hit them alike, with new threads and
// processes every round. Reported: medians over the rounds; a pool's ratio is the median of its per-round
// p50 ratios to its floor.
// Throughput: a CPU-bound model (~5 ms of pure computation per call), 200 calls in flight, through pools of
// 2 workers, against calling the same function inline on the main thread (best of the rounds).

import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Piscina } from 'piscina';
import { WorkerPool } from '../../dist/executors/index.js';
import { burn, calibrate } from './burn.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
const quick = flag('quick') !== undefined;
const only = flag('only')?.split('=')[1]; // 'roundtrip' or 'cpu'
const rounds = Number(flag('rounds')?.split('=')[1] ?? (quick ? 1 : 5));
const SERIAL = quick ? 2_000 : 20_000;
const IN_FLIGHT = 200;
const BLOCK = 250;
const CPU_MS = 5;
const PAYLOAD = { q: 'what does a week in Oslo cost?', days: 7, tags: ['travel', 'eu'] };

const here = (f) => new URL(f, import.meta.url);
const logger = pino({ level: 'silent' });
const ctx = { endpointName: 'm', step: 'bench', eventId: 'ev', path: '/' };

function pool(kind, size, exp) {
  return new WorkerPool({
    name: `bench/${kind}_pool`,
    kind,
    mechanism: kind === 'thread' ? 'thread_pool' : 'process_pool',
    size,
    maxQueue: 1024,
    logger,
    models: [
      { name: 'm', classRef: `${here('./models.mjs').href}#${exp}`, options: { name: 'm' }, maxConcurrentCalls: 1 },
    ],
  });
}

// ---- round-trip variants: run(input) -> Promise<output> ----
const ROUND_TRIP = [
  {
    id: 'piscina',
    label: 'piscina task, 1 thread (raw floor)',
    async make() {
      const p = new Piscina({ filename: here('./piscina-task.mjs').href, minThreads: 1, maxThreads: 1 });
      await p.run(PAYLOAD);
      return { run: (x) => p.run(x), close: () => p.destroy() };
    },
  },
  {
    id: 'pool-thread',
    label: 'WorkerPool thread, 1 worker',
    floor: 'piscina',
    async make() {
      const p = pool('thread', 1, 'NoopModel');
      await p.start();
      const call = { model: 'm', input: undefined, ctx };
      return {
        run: (x) => p.call({ ...call, input: x }),
        close: () => p.close(1000),
      };
    },
  },
  {
    id: 'fork',
    label: "child_process.fork IPC, 'advanced' (raw floor)",
    async make() {
      const child = fork(fileURLToPath(here('./fork-echo.mjs')), [], { serialization: 'advanced' });
      let pending;
      child.on('message', (m) => {
        const r = pending;
        pending = undefined;
        r(m);
      });
      const run = (x) =>
        new Promise((r) => {
          pending = r;
          child.send(x);
        });
      await run(PAYLOAD);
      return {
        run,
        close: () =>
          new Promise((r) => {
            child.once('exit', r);
            child.kill();
          }),
      };
    },
  },
  {
    id: 'pool-process',
    label: 'WorkerPool process, 1 worker',
    floor: 'fork',
    async make() {
      const p = pool('process', 1, 'NoopModel');
      await p.start();
      const call = { model: 'm', input: undefined, ctx };
      return { run: (x) => p.call({ ...call, input: x }), close: () => p.close(1000) };
    },
  },
];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
}

/**
 * Serial round trips of every variant, interleaved in blocks of BLOCK calls (A, B, C, D, A, B, …), so that the
 * machine's slow phases (CPU wake-ups, other processes) hit every variant alike. Each await is timed.
 */
async function serialInterleaved(variants, iters) {
  const samples = variants.map(() => new Float64Array(iters));
  for (let done = 0; done < iters; done += BLOCK) {
    const n = Math.min(BLOCK, iters - done);
    for (let v = 0; v < variants.length; v++) {
      const run = variants[v].run;
      const out = samples[v];
      for (let i = done; i < done + n; i++) {
        const t0 = performance.now();
        await run(PAYLOAD);
        out[i] = (performance.now() - t0) * 1000;
      }
    }
  }
  return samples.map((s) => {
    let total = 0;
    for (const x of s) total += x;
    s.sort();
    return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), perSec: (s.length / total) * 1e6 };
  });
}

// ---- CPU-bound throughput variants: run200() -> wall ms ----
function cpuVariants(iterations) {
  const expected = burn(iterations);
  const check = (v) => {
    if (v !== expected) throw new Error(`CPU model returned ${v}, expected ${expected}`);
  };
  const viaPool = (kind) => async () => {
    const p = pool(kind, 2, 'CpuModel');
    await p.start();
    const input = { iterations };
    return {
      async run() {
        const t0 = performance.now();
        const out = await Promise.all(Array.from({ length: IN_FLIGHT }, () => p.call({ model: 'm', input, ctx })));
        const ms = performance.now() - t0;
        check(out[0]);
        return ms;
      },
      close: () => p.close(1000),
    };
  };
  return [
    {
      id: 'inline',
      label: `inline on the main thread, ${IN_FLIGHT} calls`,
      async make() {
        return {
          async run() {
            const t0 = performance.now();
            let last;
            for (let i = 0; i < IN_FLIGHT; i++) last = burn(iterations);
            const ms = performance.now() - t0;
            check(last);
            return ms;
          },
          close: async () => {},
        };
      },
    },
    {
      id: 'cpu-thread',
      label: `WorkerPool thread, 2 workers, ${IN_FLIGHT} in flight`,
      base: 'inline',
      make: viaPool('thread'),
    },
    {
      id: 'cpu-process',
      label: `WorkerPool process, 2 workers, ${IN_FLIGHT} in flight`,
      base: 'inline',
      make: viaPool('process'),
    },
  ];
}

async function main() {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${platform()} ${release()}, ${availableParallelism()} CPUs (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
  const date = new Date().toISOString();
  console.log(`executors bench ${date}: ${machine}, ${rounds} round(s)${quick ? ', --quick' : ''}`);

  const roundTrip = only === 'cpu' ? [] : ROUND_TRIP;
  for (let r = 0; r < (only === 'cpu' ? 0 : rounds); r++) {
    // fresh threads and processes every round: one process can be a few % faster than another of the same code
    for (const v of ROUND_TRIP) Object.assign(v, await v.make());
    const order = r % 2 === 0 ? ROUND_TRIP : [...ROUND_TRIP].reverse();
    await serialInterleaved(order, Math.max(1_000, SERIAL / 5)); // warm-up
    const ms = await serialInterleaved(order, SERIAL);
    order.forEach((v, i) => {
      v.rounds ??= [];
      v.rounds.push(ms[i]);
    });
    for (const v of ROUND_TRIP) await v.close();
  }

  const iterations = calibrate(CPU_MS);
  const CPU = only === 'roundtrip' ? [] : cpuVariants(iterations);
  for (const v of CPU) {
    Object.assign(v, await v.make());
    await v.run(); // warm-up
  }
  for (let r = 0; r < rounds; r++) {
    for (const v of r % 2 === 0 ? CPU : [...CPU].reverse()) {
      const ms = await v.run();
      v.bestMs = Math.min(ms, v.bestMs ?? Number.POSITIVE_INFINITY);
    }
  }
  for (const v of CPU) await v.close();
  const perCallMs = CPU.length ? CPU[0].bestMs / IN_FLIGHT : 0; // inline: the function's own time per call

  const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const int = (x) => Math.round(x).toLocaleString('en-US');
  const byId = Object.fromEntries([...roundTrip, ...CPU].map((v) => [v.id, v]));
  const lines = [];
  lines.push('| variant | work | µs/call p50 | µs/call p99 | calls/s | vs baseline | target |');
  lines.push('|---|---|---:|---:|---:|---|---|');
  const verdicts = [];
  for (const v of roundTrip) {
    // medians over the rounds; a pool's ratio is the median of its per-round ratios to the floor of the same round
    const b = { p50: median(v.rounds.map((m) => m.p50)), p99: median(v.rounds.map((m) => m.p99)) };
    b.perSec = median(v.rounds.map((m) => m.perSec));
    let rel = '';
    let target = '';
    if (v.floor) {
      const f = byId[v.floor].rounds;
      const ratios = v.rounds.map((m, i) => m.p50 / f[i].p50);
      const ratio = median(ratios);
      rel = `${ratio.toFixed(2)}× ${v.floor} p50 (per round: ${ratios.map((x) => x.toFixed(2)).join(', ')})`;
      const ok = ratio <= 1.15;
      target = `≤ 1.15× ${ok ? 'met' : 'MISSED'}`;
      verdicts.push(ok);
    }
    lines.push(
      `| ${v.label} | no-op, serial, ${SERIAL} calls | ${fmt(b.p50)} | ${fmt(b.p99)} | ${int(b.perSec)} | ${rel} | ${target} |`,
    );
  }
  for (const v of CPU) {
    const perSec = (IN_FLIGHT / v.bestMs) * 1000;
    let rel = '';
    let target = '';
    if (v.base) {
      const speedup = byId[v.base].bestMs / v.bestMs;
      rel = `${speedup.toFixed(2)}× inline throughput`;
      const ok = speedup >= 1.7;
      target = `≥ 1.7× ${ok ? 'met' : 'MISSED'}`;
      verdicts.push(ok);
    }
    const work = `CPU ${perCallMs.toFixed(1)} ms/call, ${IN_FLIGHT} calls: ${fmt(v.bestMs)} ms`;
    lines.push(`| ${v.label} | ${work} | | | ${int(perSec)} | ${rel} | ${target} |`);
  }
  const table = lines.join('\n');
  console.log(`\n${table}\n`);
  console.log(verdicts.every(Boolean) ? 'all targets met' : 'some targets MISSED');

  if (flag('write')) {
    const section = [
      '## executors',
      '',
      `\`npm run bench:executors\`, run ${date} on ${machine}, ${rounds} rounds.`,
      '',
      `- Round trip: a no-op model, one call at a time, payload \`${JSON.stringify(PAYLOAD)}\`. The raw floors use the`,
      "  serialization of the pool they are compared with (structured clone for threads, 'advanced' for processes).",
      '  The four variants run interleaved in blocks of 250 calls, with new threads and processes every round;',
      '  p50, p99 and calls/s are medians over the rounds, a ratio is the median of the per-round p50 ratios.',
      `- Throughput: ${IN_FLIGHT} calls of pure computation (${perCallMs.toFixed(1)} ms each when inline) in flight through 2`,
      '  workers, against the same function called inline on the main thread; best round.',
      '- On a small VM the per-round ratios spread widely (an idle vCPU takes long to wake for each message, and',
      '  other processes interfere): read the medians, and run on a quiet machine.',
      '',
      table,
      '',
    ].join('\n');
    writeSection(section);
  }
}

/** Replace (or append) the "## executors" section of bench/RESULTS.md, leaving the other sections alone. */
function writeSection(section) {
  const path = fileURLToPath(here('../RESULTS.md'));
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = '# Benchmark results\n';
  }
  const start = text.search(/^## executors\s*$/m);
  if (start < 0) {
    text = `${text.replace(/\s*$/, '')}\n\n${section}`;
  } else {
    const rest = text.slice(start + 1).search(/^## /m);
    const end = rest < 0 ? text.length : start + 1 + rest;
    text = `${text.slice(0, start)}${section}${end < text.length ? `\n${text.slice(end)}` : ''}`;
  }
  writeFileSync(path, text);
  console.log(`wrote the executors section of ${path}`);
}

await main();
