// A streaming LLModel (llm.md section 2.4; streaming.md; model-runner.md section 12): tokens in order, the
// done payload, the Collector, setStreaming(false), the mechanism rule, and cancellation reaching the server.
// thread_pool and process_pool load dist/: run `npm run build` first.
import { describe, expect, test } from 'vitest';
import { Collector, createGraph, ModelRunnerStep } from '../../src/index.js';
import { countChatTokens, countTokens } from '../../src/llm/usage.js';
import {
  callRecords,
  closeLlmServersAfterEach,
  drain,
  generations,
  LLMODEL,
  llmGraph,
  type Mechanism,
  openai,
  promptFor,
  SERVER_USAGE,
  sentBody,
  sentMessages,
  throwsSg,
  useServers,
  waitFor,
} from './llmodel-fixtures.js';

closeLlmServersAfterEach();
const serve = useServers();

const ANSWER = 'Rates may rise.';
const TOKENS = ['Rates', ' may', ' rise.'];
const BODY = { q: 'Are rates going up?' };

type Server = Awaited<ReturnType<typeof openai>>;
const streaming = (server: Server, extra: Record<string, unknown> = {}) =>
  promptFor(server, { promptTemplate: 'Answer: {q}', invocationConfig: { stream: true, max_tokens: 30 }, ...extra });

describe('a streaming LLModel', () => {
  for (const mechanism of ['asyncio', 'thread_pool'] as Mechanism[]) {
    test(`${mechanism}: testStream yields the server's tokens in order; done carries usage and finishReason`, async () => {
      const server = await openai({ tokens: TOKENS, usage: SERVER_USAGE });
      const { graph } = llmGraph('chat', streaming(server), { mechanism, resultPath: 'output' });
      const s = serve(graph);
      const st = s.testStream('/', BODY);
      expect(await drain(st)).toEqual(TOKENS);
      const done = await st.done;
      expect(done).toMatchObject({ chunks: 3, usage: SERVER_USAGE, finishReason: 'stop' });
      // the request asked for a stream with usage; `stream` itself never travels as config
      const body = sentBody(server);
      expect(body.stream).toBe(true);
      expect(body.stream_options).toEqual({ include_usage: true });
      expect(body.max_tokens).toBe(30);
      expect(sentMessages(server)).toEqual([{ role: 'user', content: 'Answer: Are rates going up?' }]);
      await s.monitoring.flush();
      const [call] = await s.monitoring.calls('chat');
      expect(call).toMatchObject({
        outcome: 'ok',
        streamed: true,
        chunks: 3,
        promptTokens: 21,
        completionTokens: 4,
        totalTokens: 25,
        usage: SERVER_USAGE,
      });
    });
  }

  test('the finish reason of the server is the one in done', async () => {
    const server = await openai({ tokens: TOKENS, finishReason: 'length' });
    const st = serve(llmGraph('chat', streaming(server)).graph).testStream('/', BODY);
    await drain(st);
    expect((await st.done).finishReason).toBe('length');
  });

  test('test() on the streaming graph resolves with the collected {answer, usage} at resultPath', async () => {
    const server = await openai({ tokens: TOKENS, usage: SERVER_USAGE });
    const s = serve(llmGraph('chat', streaming(server), { resultPath: 'output' }).graph);
    expect(await s.test('/', BODY)).toEqual({ ...BODY, output: { answer: ANSWER, usage: SERVER_USAGE } });
  });

  test('a Collector after the runner writes at resultPath what a non-streaming call returns', async () => {
    const server = await openai({ tokens: TOKENS, usage: SERVER_USAGE });
    const g = createGraph();
    const runner = new ModelRunnerStep({ name: 'runner' });
    runner.addModel({
      endpointName: 'chat',
      modelClass: LLMODEL,
      executionMechanism: 'asyncio',
      modelArtifact: streaming(server),
      resultPath: 'output',
    });
    g.to(runner)
      .to(new Collector({ name: 'collect' }))
      .respond();
    const collected = await serve(g).test('/', BODY);
    const plain = serve(
      llmGraph('plain', promptFor(server, { promptTemplate: 'Answer: {q}' }), { resultPath: 'output' }).graph,
    );
    const direct = await plain.test('/', BODY);
    expect(collected).toEqual({ ...BODY, output: { answer: ANSWER, usage: SERVER_USAGE } });
    expect(collected).toEqual(direct);
    expect(sentBody(server, 0).stream).toBe(true);
    expect(sentBody(server, 1).stream).not.toBe(true);
  });

  test('graph.setStreaming(false): the same graph calls the provider without streaming', async () => {
    const server = await openai({ tokens: TOKENS, usage: SERVER_USAGE });
    const { graph } = llmGraph('chat', streaming(server), { resultPath: 'output' });
    graph.setStreaming(false);
    const s = serve(graph);
    expect(await s.test('/', BODY)).toEqual({ ...BODY, output: { answer: ANSWER, usage: SERVER_USAGE } });
    const body = sentBody(server);
    expect(body.stream).not.toBe(true);
    expect('stream_options' in body).toBe(false);
    expect(body.max_tokens).toBe(30);
    // a stream request then yields the whole reply as its one item
    const st = s.testStream('/', BODY);
    expect(await drain(st)).toEqual([{ ...BODY, output: { answer: ANSWER, usage: SERVER_USAGE } }]);
    expect(sentBody(server, 1).stream).not.toBe(true);
    await s.monitoring.flush();
    expect((await s.monitoring.calls('chat')).map((c) => c.streamed)).toEqual([false, false]);
  });

  for (const mechanism of ['process_pool', 'dedicated_process'] as Mechanism[]) {
    test(`a streaming LLModel in ${mechanism} fails validation with SG_ERR_STREAM_MECHANISM`, async () => {
      const server = await openai();
      const { graph } = llmGraph('chat', streaming(server), { mechanism });
      const err = throwsSg(() => graph.validate(), 'SG_ERR_STREAM_MECHANISM');
      expect(err.message).toContain('chat');
      throwsSg(() => serve(graph), 'SG_ERR_STREAM_MECHANISM');
      // with streaming disabled the rule is not checked, and the same model answers in one piece
      graph.setStreaming(false);
      expect(await serve(graph).test('/', BODY)).toMatchObject({ answer: 'Hello from the test server.' });
      expect(sentBody(server).stream).not.toBe(true);
    });
  }
});

describe('cancelling a streaming LLModel', () => {
  for (const mechanism of ['asyncio', 'thread_pool'] as Mechanism[]) {
    for (const how of ['break', 'return'] as const) {
      test(`${mechanism}, ${how} after one chunk: the server sees the client go; monitoring keeps a partial usage`, async () => {
        const server = await openai({ tokens: TOKENS, chunkDelayMs: 200 });
        const s = serve(llmGraph('chat', streaming(server), { mechanism }).graph);
        const got: unknown[] = [];
        const loop = async () => {
          for await (const c of s.testStream('/', BODY)) {
            got.push(c);
            if (how === 'break') break;
            return;
          }
        };
        await loop();
        expect(got).toEqual(['Rates']);
        await waitFor(() => generations(server)[0]?.clientAborted === true, 2);
        expect(generations(server)[0].closedAt).not.toBeNull();
        const calls = await callRecords(s, 'chat');
        expect(calls).toHaveLength(1);
        expect(calls[0]).toMatchObject({ outcome: 'aborted', errorCode: 'SG_ERR_CLIENT_CLOSED', streamed: true });
        // the partial usage of llm.md section 3.7: no usage came from the server, so it is counted locally
        const prompt = countChatTokens([{ role: 'user', content: 'Answer: Are rates going up?' }]);
        const completion = countTokens('Rates');
        expect(calls[0].promptTokens).not.toBeNull();
        expect(calls[0]).toMatchObject({
          promptTokens: prompt,
          completionTokens: completion,
          totalTokens: prompt + completion,
          usageEstimated: true,
        });
      });
    }
  }
});
