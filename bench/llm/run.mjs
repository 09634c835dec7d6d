// LLM benchmark: an LLModel endpoint through the mock server against calling the `openai` SDK directly with
// the same messages, both against the same local OpenAI-wire test server, in one run.
//
//   npm run bench:llm                       build, then the full run (about 20-40 s)
//   node bench/llm/run.mjs --quick          fewer calls, for a smoke test
//   node bench/llm/run.mjs --rounds=5       more rounds (default 3)
//
// 1. Per call (JSON): p50 and p99 of one chat completion, sequential calls. servegraph: a graph with one
//    ModelRunnerStep holding one asyncio LLModel whose prompt template gives the same messages the SDK side sends,
//    through `createMockServer(graph).test('/', body)`; the SDK side: `client.chat.completions.create({...})`.
// 2. Time to first chunk (stream): from sending to the first text delta in hand, p50. servegraph: the same
//    graph with `invocationConfig: {stream: true}`, read with `server.testStream`; the SDK side: `stream: true`
//    with `stream_options.include_usage`, as servegraph's provider sends it.
// Both sides: one `openai` client (retries off), the same server, logging off (the mock server at 'silent', the
// test server without a logger). Each round runs both sides, alternating which goes first; the best round is kept.

import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { createGraph, createMockServer, LLMPromptArtifact, ModelRunnerStep } from '../../dist/index.js';
import { startOpenAITestServer } from '../../dist/testing/index.js';

const argv = process.argv.slice(2);
const flag = (name) => argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
const quick = flag('quick') !== undefined;
const rounds = Number(flag('rounds')?.split('=')[1] ?? (quick ? 1 : 3));
const CALLS = quick ? 300 : 2000;
const STREAMS = quick ? 200 : 1000;

const oai = await startOpenAITestServer({ answer: 'The rates are expected to stay where they are for a while.' });
// the test server keeps every request: forget them between rounds so memory stays flat
const forget = () => oai.requests.splice(0);

const system = 'You are a careful financial analyst.';
const question = 'Are rates going up?';
const messages = [
  { role: 'system', content: system },
  { role: 'user', content: `Client Ana asks: ${question}` },
];
const body = { q: question, client: { name: 'Ana' } };

function graphFor(stream) {
  const prompt = new LLMPromptArtifact({
    key: stream ? 'bench-stream' : 'bench',
    modelUrl: 'openai://bench-model',
    promptTemplate: [
      { role: 'system', content: system },
      { role: 'user', content: 'Client {name} asks: {q}' },
    ],
    promptLegend: { name: { field: 'client.name' } },
    invocationConfig: stream ? { stream: true } : {},
    providerOptions: { baseURL: oai.url, apiKey: 'bench', maxRetries: 0 },
  });
  const graph = createGraph({ name: stream ? 'bench-llm-stream' : 'bench-llm' });
  const runner = new ModelRunnerStep({ name: 'runner' });
  runner.addModel({
    endpointName: 'chat',
    modelClass: 'LLModel',
    modelArtifact: prompt,
    executionMechanism: 'asyncio',
    resultPath: 'out',
  });
  graph.to(runner).respond();
  return createMockServer(graph, { logLevel: 'silent', maxConcurrency: 0 });
}

const sg = graphFor(false);
const sgStream = graphFor(true);
// the same client settings as servegraph's OpenAI provider: retries off, no SDK timeout of its own, logging off
const client = new OpenAI({ apiKey: 'bench', baseURL: oai.url, maxRetries: 0, timeout: 2 ** 31 - 1, logLevel: 'off' });

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function timeCalls(n, call) {
  const t = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call();
    t.push(performance.now() - t0);
  }
  forget();
  return { p50: pct(t, 50), p99: pct(t, 99) };
}

const sdkCall = async () => {
  const r = await client.chat.completions.create({ model: 'bench-model', messages });
  if (typeof r.choices[0].message.content !== 'string') throw new Error('no answer');
};
const sgCall = async () => {
  const r = await sg.test('/', body);
  if (typeof r.out.answer !== 'string') throw new Error('no answer');
};

async function sdkFirst() {
  const t0 = performance.now();
  const s = await client.chat.completions.create({
    model: 'bench-model',
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  let first;
  for await (const c of s) if (first === undefined && c.choices[0]?.delta?.content) first = performance.now() - t0;
  return first;
}
async function sgFirst() {
  const t0 = performance.now();
  let first;
  for await (const _ of sgStream.testStream('/', body)) if (first === undefined) first = performance.now() - t0;
  return first;
}
async function timeFirst(n, f) {
  const t = [];
  for (let i = 0; i < n; i++) t.push(await f());
  forget();
  return pct(t, 50);
}

// warm-up: JIT, connections, the tokenizer
await timeCalls(200, sdkCall);
await timeCalls(200, sgCall);
await timeFirst(100, sdkFirst);
await timeFirst(100, sgFirst);

const best = { sdk: undefined, sg: undefined, sdkFirst: Infinity, sgFirst: Infinity };
const keep = (a, b) => (a === undefined || b.p50 < a.p50 ? b : a);
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? ['sdk', 'sg'] : ['sg', 'sdk'];
  for (const side of order) {
    if (side === 'sdk') {
      best.sdk = keep(best.sdk, await timeCalls(CALLS, sdkCall));
      best.sdkFirst = Math.min(best.sdkFirst, await timeFirst(STREAMS, sdkFirst));
    } else {
      best.sg = keep(best.sg, await timeCalls(CALLS, sgCall));
      best.sgFirst = Math.min(best.sgFirst, await timeFirst(STREAMS, sgFirst));
    }
  }
}
await Promise.all([sg.close(), sgStream.close()]);
await oai.close();

const ms = (x) => x.toFixed(3);
const met = (ok) => (ok ? 'met' : '**missed**');
const added = best.sg.p50 - best.sdk.p50;
const addedFirst = best.sgFirst - best.sdkFirst;
console.log(`llm benchmark: ${CALLS} calls and ${STREAMS} streams per round, sequential; best of ${rounds} round(s)`);
console.log(`Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'})\n`);
console.log('| measure | servegraph (LLModel, mock server) | openai SDK direct | added | ratio | target | |');
console.log('|---|---:|---:|---:|---:|---|---|');
console.log(
  `| call, ms p50 | ${ms(best.sg.p50)} | ${ms(best.sdk.p50)} | +${ms(added)} ms | ${(best.sg.p50 / best.sdk.p50).toFixed(2)}x | ≤ +0.3 ms | ${met(added <= 0.3)} |`,
);
console.log(
  `| call, ms p99 | ${ms(best.sg.p99)} | ${ms(best.sdk.p99)} | +${ms(best.sg.p99 - best.sdk.p99)} ms | ${(best.sg.p99 / best.sdk.p99).toFixed(2)}x | | |`,
);
console.log(
  `| first chunk, ms p50 | ${ms(best.sgFirst)} | ${ms(best.sdkFirst)} | +${ms(addedFirst)} ms | ${(best.sgFirst / best.sdkFirst).toFixed(2)}x | ≤ +0.5 ms | ${met(addedFirst <= 0.5)} |`,
);
