// streaming.md (rule 3, "Backpressure", "Cancellation") and model-runner.md sections 8 and 12: a streaming
// model in a thread_pool worker, directly through its WorkerPool and through a runner (also as a shared model).
// Needs `npm run build` (the fixtures import 'servegraph', the workers run dist/).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { threadId } from 'node:worker_threads';
import { pino } from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import { WorkerPool } from '../../src/executors/index.js';
import { createGraph, ModelRunnerStep } from '../../src/index.js';
import { FIXTURES, rejectsSg, serve, sleep, waitFor } from './helpers.js';

const FILE = join(FIXTURES, 'streaming.mjs');
const STREAMER = `${FILE}#Streamer`;

/** A graph whose runner 'runner' streams endpoint 'talk' (Streamer, thread_pool) at resultPath 'out'. */
function streamingGraph(maxBufferedChunks?: number) {
  const g = createGraph();
  const r = new ModelRunnerStep({ name: 'runner' });
  r.addModel({ endpointName: 'talk', modelClass: STREAMER, executionMechanism: 'thread_pool', resultPath: 'out' });
  g.to(r).respond();
  if (maxBufferedChunks !== undefined) g.setStreaming(true, { maxBufferedChunks });
  return g;
}

/** What the worker's last 'endless' stream saw (a probe call on the same, only, worker). */
async function probe(s: ReturnType<typeof serve>): Promise<{ produced: number; finally: unknown }> {
  const out = (await s.test('/', { mode: 'probe' })) as { out: string };
  return JSON.parse(out.out);
}

describe('a thread_pool streaming model through a runner', () => {
  test('streams its chunks in order from a worker thread; collected, test() returns the merged result', async () => {
    const s = serve(streamingGraph());
    const st = s.testStream('/', { words: ['Hel', 'lo ', 'you'] });
    const got: unknown[] = [];
    for await (const c of st) got.push(c);
    expect(got.slice(1)).toEqual(['Hel', 'lo ', 'you']);
    expect(typeof got[0]).toBe('number');
    expect(got[0]).not.toBe(threadId);
    expect((await st.done).usage).toEqual({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
    const out = (await s.test('/', { words: ['a', 'b'] })) as { words: string[]; out: unknown[] };
    expect(out.words).toEqual(['a', 'b']);
    expect(out.out.slice(1)).toEqual(['a', 'b']);
    expect(out.out[0]).toBe(got[0]);
    const [rec] = await s.monitoring.calls('talk');
    expect(rec).toMatchObject({ streamed: true, outcome: 'ok' });
  });

  test('backpressure: a consumer that stops reading stops the model in its worker', async () => {
    const max = 2;
    const s = serve(streamingGraph(max));
    const st = s.testStream('/', { mode: 'endless' });
    const it = st[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe('0 ');
    await sleep(300); // the worker would produce thousands of chunks by now if nothing held it
    await it.return?.();
    const seen = await probe(s);
    // at most maxBufferedChunks downstream + the credit window (16) in flight, and a little slack
    expect(seen.produced).toBeGreaterThan(1);
    expect(seen.produced).toBeLessThanOrEqual(max + 16 + 5);
  });

  test("cancellation: leaving the loop aborts the model's ctx.signal in its worker and runs its finally", async () => {
    const s = serve(streamingGraph());
    const st = s.testStream('/', { mode: 'endless', ms: 5 });
    let n = 0;
    for await (const _ of st) if (++n === 3) break;
    let seen = await probe(s);
    for (let i = 0; i < 100 && seen.finally === null; i++) {
      await sleep(20);
      seen = await probe(s);
    }
    expect(seen.finally).toMatchObject({ aborted: true, reason: 'SG_ERR_CLIENT_CLOSED' });
    expect(seen.produced).toBeLessThan(1000);
  });

  test('a model that throws after 2 chunks fails the stream with its SgError code', async () => {
    const s = serve(streamingGraph());
    const got: unknown[] = [];
    const e = await rejectsSg(async () => {
      for await (const c of s.testStream('/', { mode: 'fail' })) got.push(c);
    }, 'SG_ERR_QUOTA_EXCEEDED');
    expect(got).toEqual(['a', 'b']);
    expect(e.endpoint).toBe('talk');
    await rejectsSg(s.test('/', { mode: 'fail' }), 'SG_ERR_QUOTA_EXCEEDED');
    await rejectsSg(s.test('/', { mode: 'error-chunk' }), 'SG_ERR_BAD_REQUEST');
    const nc = await rejectsSg(s.test('/', { mode: 'uncloneable' }), 'SG_ERR_NOT_CLONEABLE');
    expect(nc.details).toMatchObject({ direction: 'out' });
    // the worker still serves
    expect(((await s.test('/', { words: ['ok'] })) as { out: unknown[] }).out.slice(1)).toEqual(['ok']);
  });

  test('a shared thread_pool streaming model streams through a proxy', async () => {
    const g = createGraph();
    g.addSharedModel({ name: 'shared-talk', modelClass: STREAMER, executionMechanism: 'thread_pool' });
    const r = new ModelRunnerStep({ name: 'runner' });
    r.addSharedModelProxy({ endpointName: 'proxy', sharedModelName: 'shared-talk' });
    g.to(r).respond();
    const s = serve(g);
    const got: unknown[] = [];
    for await (const c of s.testStream('/', { words: ['x', 'y'] })) got.push(c);
    expect(got.slice(1)).toEqual(['x', 'y']);
    expect(got[0]).not.toBe(threadId);
    const e = await rejectsSg(s.test('/', { mode: 'fail' }), 'SG_ERR_QUOTA_EXCEEDED');
    expect(e.endpoint).toBe('proxy');
  });

  test('a worker that dies mid-stream fails it with SG_ERR_WORKER_DIED; the pool serves later calls', async () => {
    const s = serve(streamingGraph());
    const got: unknown[] = [];
    const e = await rejectsSg(async () => {
      for await (const c of s.testStream('/', { mode: 'die' })) got.push(c);
    }, 'SG_ERR_WORKER_DIED');
    expect(got).toEqual(['a', 'b']);
    expect(e.message).toMatch(/model 'talk'/);
    const later = (await s.test('/', { words: ['again'] })) as { out: unknown[] };
    expect(later.out.slice(1)).toEqual(['again']);
  });
});

// ---- the pool itself ----

const logger = pino({ level: 'silent' });
const pools: WorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close(0)));
});

function pool(maxConcurrentCalls = 1, maxQueue = 16): WorkerPool {
  const p = new WorkerPool({
    name: 'runner/thread_pool',
    kind: 'thread',
    mechanism: 'thread_pool',
    size: 1,
    maxQueue,
    logger,
    models: [
      {
        name: 'talk',
        classRef: `${pathToFileURL(FILE).href}#Streamer`,
        options: { name: 'talk' },
        maxConcurrentCalls,
      },
    ],
  });
  pools.push(p);
  return p;
}

let no = 0;
const ctx = () => ({ endpointName: 'talk', step: 'runner', eventId: `ev-${++no}`, path: '/' });

async function drain(it: AsyncIterable<unknown>): Promise<{ chunks: unknown[]; summary: unknown }> {
  const i = it[Symbol.asyncIterator]();
  const chunks: unknown[] = [];
  for (;;) {
    const r = await i.next();
    if (r.done) return { chunks, summary: r.value };
    chunks.push(r.value);
  }
}

describe('WorkerPool.callStream', () => {
  test('yields the chunks in order, ends with the summary; return() cancels and frees the slot', async () => {
    const p = pool(1, 4);
    await p.start();
    const { chunks, summary } = await drain(p.callStream({ model: 'talk', input: { words: ['a', 'b'] }, ctx: ctx() }));
    expect(chunks.slice(1)).toEqual(['a', 'b']);
    expect(summary).toMatchObject({ usage: { total_tokens: 3 } });
    // a stream holds its slot: a second one waits in the queue until the first ends
    const first = p.callStream({ model: 'talk', input: { mode: 'endless' }, ctx: ctx() })[Symbol.asyncIterator]();
    expect((await first.next()).value).toBe('0 ');
    const second = drain(p.callStream({ model: 'talk', input: { words: ['z'] }, ctx: ctx() }));
    await waitFor(() => p.queueDepth === 1);
    await first.return?.();
    expect((await second).chunks.slice(1)).toEqual(['z']);
    expect(p.queueDepth).toBe(0);
  });

  test('timeouts, aborts and a full queue fail the stream; close() leaves no worker', async () => {
    const p = pool(1, 1);
    await p.start();
    const t = p.callStream({ model: 'talk', input: { mode: 'endless', ms: 20 }, ctx: ctx(), timeoutMs: 200 });
    await expect(drain(t)).rejects.toMatchObject({ code: 'SG_ERR_MODEL_TIMEOUT' });
    const ac = new AbortController();
    const a = p.callStream({ model: 'talk', input: { mode: 'endless', ms: 20 }, ctx: ctx(), signal: ac.signal });
    const ai = a[Symbol.asyncIterator]();
    expect((await ai.next()).value).toBe('0 ');
    const queued = drain(p.callStream({ model: 'talk', input: { words: ['q'] }, ctx: ctx() }));
    const full = p.callStream({ model: 'talk', input: {}, ctx: ctx() });
    await expect(drain(full)).rejects.toMatchObject({ code: 'SG_ERR_OVERLOADED' });
    ac.abort(new Error('gone'));
    await expect(drain(a)).rejects.toThrow('gone');
    expect((await queued).chunks.slice(1)).toEqual(['q']);
    const { chunks } = await drain(p.callStream({ model: 'talk', input: { words: ['after'] }, ctx: ctx() }));
    expect(chunks.slice(1)).toEqual(['after']);
    await p.close(1000);
    expect(p.aliveWorkers).toBe(0);
  });
});
