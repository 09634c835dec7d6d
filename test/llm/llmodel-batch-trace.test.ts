// LLModel with batches (llm.md section 2.6; batching.md) and W3C trace context forwarding (llm.md section
// 3.1, "Tracing"; http.md). thread_pool loads dist/: run `npm run build` first.
import { describe, expect, test } from 'vitest';
import {
  Batch,
  createGraph,
  type Event,
  type HttpServer,
  MapStep,
  ModelRunnerStep,
  SgError,
  serve as serveHttp,
} from '../../src/index.js';
import type { RecordedRequest } from '../../src/testing/index.js';
import {
  callRecords,
  closeLlmServersAfterEach,
  codeChain,
  generations,
  LLMODEL,
  llmGraph,
  type Mechanism,
  openai,
  promptFor,
  TRACEPARENT,
  useServers,
} from './llmodel-fixtures.js';

closeLlmServersAfterEach();
const serve = useServers();

type Server = Awaited<ReturnType<typeof openai>>;

/** A server answering `echo: <last message>`, after `delayMs`. */
const echoServer = (delayMs = 0): Promise<Server> =>
  openai({
    delayMs,
    reply: (req) => {
      const messages = (req.body as { messages: { content: string }[] }).messages;
      return { answer: `echo: ${messages.at(-1)?.content}`, usage: { prompt_tokens: 2, completion_tokens: 2 } };
    },
  });

/** Batch(3) → runner with one LLModel 'finance' (resultPath 'out') → respond. */
function batchGraph(server: Server, mechanism: Mechanism, maxBatchConcurrency = 2) {
  const g = createGraph();
  const runner = new ModelRunnerStep({ name: 'runner' });
  runner.addModel({
    endpointName: 'finance',
    modelClass: LLMODEL,
    executionMechanism: mechanism,
    modelArtifact: promptFor(server, { promptTemplate: 'Question {n}: {q}' }),
    modelParameters: { maxBatchConcurrency },
    resultPath: 'out',
  });
  g.to(new Batch({ name: 'batch', maxEvents: 3, flushAfterSeconds: 5 }))
    .to(runner)
    .respond();
  return g;
}

const USAGE = { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 };

describe('LLModel on a batch', () => {
  for (const mechanism of ['asyncio', 'thread_pool'] as Mechanism[]) {
    test(`${mechanism}: three events, one call, each member answered in order, at most 2 requests at once`, async () => {
      const server = await echoServer(100);
      const s = serve(batchGraph(server, mechanism));
      const bodies = [0, 1, 2].map((n) => ({ n, q: `q${n}` }));
      const replies = await Promise.all(bodies.map((b, i) => s.test('/', b, { id: `m${i}` })));
      expect(replies).toEqual(
        bodies.map((b) => ({ ...b, out: { answer: `echo: Question ${b.n}: q${b.n}`, usage: USAGE } })),
      );
      const reqs = generations(server);
      expect(reqs).toHaveLength(3);
      // maxBatchConcurrency 2: the third request starts only once one of the first two has been answered,
      // and each answer takes at least the server's 100 ms delay
      const starts = reqs.map((r: RecordedRequest) => r.receivedAt).sort((a, b) => a - b);
      expect(starts[2] - starts[0]).toBeGreaterThanOrEqual(80);
      const calls = await callRecords(s, 'finance', 3);
      expect(calls).toHaveLength(3);
      expect(calls.map((c) => c.batchSize)).toEqual([3, 3, 3]);
      expect(calls.map((c) => c.outcome)).toEqual(['ok', 'ok', 'ok']);
    });

    test(`${mechanism}: a missing placeholder fails only its own member, with 400`, async () => {
      const server = await echoServer();
      const s = serve(batchGraph(server, mechanism));
      const bodies = [{ n: 0, q: 'a' }, { n: 1 }, { n: 2, q: 'c' }];
      const results = await Promise.allSettled(bodies.map((b, i) => s.test('/', b, { id: `m${i}` })));
      expect(results[0]).toEqual({
        status: 'fulfilled',
        value: { n: 0, q: 'a', out: { answer: 'echo: Question 0: a', usage: USAGE } },
      });
      expect(results[2]).toEqual({
        status: 'fulfilled',
        value: { n: 2, q: 'c', out: { answer: 'echo: Question 2: c', usage: USAGE } },
      });
      expect(results[1].status).toBe('rejected');
      const err = (results[1] as PromiseRejectedResult).reason as SgError;
      expect(err).toBeInstanceOf(SgError);
      expect(codeChain(err)).toContain('SG_ERR_PROMPT_PLACEHOLDER_MISSING');
      expect(err.status).toBe(400);
      expect(generations(server)).toHaveLength(2);
    });
  }

  test('maxBatchConcurrency 1: the requests are made one after another', async () => {
    const server = await echoServer(50);
    const s = serve(batchGraph(server, 'asyncio', 1));
    await Promise.all([0, 1, 2].map((n) => s.test('/', { n, q: 'x' })));
    const reqs = generations(server);
    expect(reqs).toHaveLength(3);
    for (let i = 1; i < 3; i++) expect(reqs[i].receivedAt - reqs[i - 1].receivedAt).toBeGreaterThanOrEqual(40);
  });
});

/** A step that sets meta.trace, as the HTTP trigger does from the request headers. */
const traceStep = () =>
  new MapStep({
    name: 'trace',
    fullEvent: true,
    handler: (ev: Event) => {
      ev.meta.trace = { traceparent: TRACEPARENT, tracestate: 'k=v' };
      return ev;
    },
  });

describe('traceparent forwarding', () => {
  test("server.test(..., { headers: { traceparent } }) reaches the provider's server as a header", async () => {
    const server = await openai();
    const s = serve(llmGraph('finance', promptFor(server, { promptTemplate: 'Hi {name}' })).graph);
    await s.test('/', { name: 'Ana' }, { headers: { traceparent: TRACEPARENT, tracestate: 'k=v' } });
    expect(generations(server)[0].headers.traceparent).toBe(TRACEPARENT);
    expect(generations(server)[0].headers.tracestate).toBe('k=v');
  });

  for (const mechanism of ['asyncio', 'thread_pool'] as Mechanism[]) {
    test(`${mechanism}: the event's meta.trace is sent on every attempt, retries included`, async () => {
      const server = await openai({ status: [500, 200] });
      const g = createGraph();
      const runner = new ModelRunnerStep({ name: 'runner' });
      runner.addModel({
        endpointName: 'finance',
        modelClass: LLMODEL,
        executionMechanism: mechanism,
        modelArtifact: promptFor(server, { promptTemplate: 'Hi {name}' }),
      });
      g.to(traceStep()).to(runner).respond();
      const s = serve(g);
      expect(await s.test('/', { name: 'Ana' })).toMatchObject({ answer: 'Hello from the test server.' });
      const reqs = generations(server);
      expect(reqs).toHaveLength(2);
      for (const r of reqs) expect(r.headers).toMatchObject({ traceparent: TRACEPARENT, tracestate: 'k=v' });
    });
  }

  test('over HTTP: the request traceparent and tracestate reach the provider; none without them', async () => {
    const server = await openai();
    let app: HttpServer | undefined;
    try {
      app = await serveHttp(llmGraph('finance', promptFor(server, { promptTemplate: 'Hi {name}' })).graph, {
        port: 0,
        logger: false,
      });
      const post = (headers: Record<string, string>) =>
        fetch(app!.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ name: 'Ana' }),
        });
      const res = await post({ traceparent: TRACEPARENT, tracestate: 'k=v' });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { answer: string }).answer).toBe('Hello from the test server.');
      expect((await post({})).status).toBe(200);
      const [traced, plain] = generations(server);
      expect(traced.headers).toMatchObject({ traceparent: TRACEPARENT, tracestate: 'k=v' });
      expect(plain.headers.traceparent).toBeUndefined();
    } finally {
      await app?.close({ graceMs: 1000 });
    }
  });
});
