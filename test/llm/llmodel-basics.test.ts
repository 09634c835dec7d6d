// LLModel (llm.md section 2): the {answer, usage} result under every mechanism, prompt enrichment (legend
// paths, inputPath, missing placeholders), model parameters and the merged invocationConfig.
// thread_pool and process_pool load dist/: run `npm run build` first.
import { describe, expect, test } from 'vitest';
import { LLMPromptArtifact, ModelArtifact, ModelRunnerStep } from '../../src/index.js';
import {
  closeLlmServersAfterEach,
  generations,
  llmGraph,
  type Mechanism,
  openai,
  promptFor,
  providerOptions,
  rejectsWithin,
  SERVER_USAGE,
  sentBody,
  sentMessages,
  throwsSg,
  useServers,
} from './llmodel-fixtures.js';

closeLlmServersAfterEach();
const serve = useServers();

const SYSTEM = 'You are a careful financial analyst.';
const ANSWER = 'Rates may rise.';
const BODY = { q: 'Are rates going up?', client: { name: 'Ana' } };
const ENRICHED = [
  { role: 'system', content: SYSTEM },
  { role: 'user', content: 'Client Ana asks: Are rates going up?' },
];

/** The finance prompt of llm.md section 1, answered by `server`. */
function financePrompt(server: Awaited<ReturnType<typeof openai>>, extra: Record<string, unknown> = {}) {
  return promptFor(server, {
    key: 'finance-prompt',
    promptTemplate: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: 'Client {name} asks: {question}' },
    ],
    promptLegend: {
      name: { field: 'client.name', description: 'Display name of the client' },
      question: { field: 'q', description: 'The question, verbatim' },
    },
    ...extra,
  });
}

describe('LLModel: the {answer, usage} result at resultPath', () => {
  const mechanisms: Mechanism[] = ['naive', 'asyncio', 'thread_pool', 'process_pool'];
  for (const mechanism of mechanisms) {
    test(`${mechanism}: the server's answer and exact usage land at resultPath; the prompt is enriched`, async () => {
      const server = await openai({ answer: ANSWER, usage: SERVER_USAGE });
      const { graph } = llmGraph('finance', financePrompt(server), { mechanism, resultPath: 'output' });
      const s = serve(graph);
      const out = await s.test('/', BODY);
      expect(out).toEqual({ ...BODY, output: { answer: ANSWER, usage: SERVER_USAGE } });
      expect(generations(server)).toHaveLength(1);
      expect(sentMessages(server)).toEqual(ENRICHED);
      expect(sentBody(server).model).toBe('test-model');
      expect(sentBody(server).stream).not.toBe(true);
      await s.monitoring.flush();
      const calls = await s.monitoring.calls('finance');
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({
        outcome: 'ok',
        streamed: false,
        promptTokens: 21,
        completionTokens: 4,
        totalTokens: 25,
        usageEstimated: false,
        usage: SERVER_USAGE,
      });
    });
  }

  test('without resultPath the output replaces the body; two events get two requests', async () => {
    const server = await openai({ answer: ANSWER, usage: SERVER_USAGE });
    const { graph } = llmGraph('finance', financePrompt(server));
    const s = serve(graph);
    expect(await s.test('/', BODY)).toEqual({ answer: ANSWER, usage: SERVER_USAGE });
    expect(await s.test('/', { q: 'And bonds?', client: { name: 'Bo' } })).toEqual({
      answer: ANSWER,
      usage: SERVER_USAGE,
    });
    expect(sentMessages(server, 1)).toEqual([
      { role: 'system', content: SYSTEM },
      { role: 'user', content: 'Client Bo asks: And bonds?' },
    ]);
  });
});

describe('LLModel: prompt enrichment', () => {
  test('legend fields are dotted paths; placeholders without a legend entry read the top-level key', async () => {
    const server = await openai({ answer: ANSWER });
    const prompt = promptFor(server, {
      promptTemplate: 'Trip to {city} for {days} days, flags {flags}, note {note}',
      promptLegend: { city: { field: 'trip.where.city' }, days: { field: 'trip.days' } },
    });
    const s = serve(llmGraph('travel', prompt).graph);
    await s.test('/', { trip: { where: { city: 'Oslo' }, days: 0 }, flags: [1, 'a'], note: '' });
    expect(sentMessages(server)).toEqual([{ role: 'user', content: 'Trip to Oslo for 0 days, flags [1,"a"], note ' }]);
  });

  test('inputPath: the model reads the placeholders inside the value at inputPath; the body is kept', async () => {
    const server = await openai({ answer: ANSWER, usage: SERVER_USAGE });
    const { graph } = llmGraph('finance', financePrompt(server), { inputPath: 'request', resultPath: 'reply' });
    const s = serve(graph);
    const body = { request: BODY, q: 'not this one', client: { name: 'Nobody' } };
    expect(await s.test('/', body)).toEqual({ ...body, reply: { answer: ANSWER, usage: SERVER_USAGE } });
    expect(sentMessages(server)).toEqual(ENRICHED);
  });

  for (const mechanism of ['asyncio', 'thread_pool'] as const) {
    test(`${mechanism}: a missing placeholder fails the request with 400 SG_ERR_PROMPT_PLACEHOLDER_MISSING, no request sent`, async () => {
      const server = await openai({ answer: ANSWER });
      const s = serve(llmGraph('finance', financePrompt(server), { mechanism }).graph);
      const err = await rejectsWithin(
        s.test('/', { client: { name: 'Ana' } }),
        'SG_ERR_PROMPT_PLACEHOLDER_MISSING',
        400,
      );
      expect(err.endpoint).toBe('finance');
      expect(err.message).toContain('finance');
      // the message names the field it was read from and the legend description
      const text = `${err.message} ${(err.cause as Error | undefined)?.message ?? ''}`;
      expect(text).toContain("'q'");
      expect(text).toContain('The question, verbatim');
      expect(generations(server)).toHaveLength(0);
      // the next event is served normally
      expect(await s.test('/', BODY)).toMatchObject({ answer: ANSWER });
    });
  }

  test("onMissingPlaceholder 'keep' leaves {name} in the text; 'empty' inserts ''", async () => {
    const server = await openai({ answer: ANSWER });
    const keep = serve(
      llmGraph('keep', financePrompt(server), { modelParameters: { onMissingPlaceholder: 'keep' } }).graph,
    );
    await keep.test('/', { client: { name: 'Ana' } });
    const empty = serve(
      llmGraph('empty', financePrompt(server), { modelParameters: { onMissingPlaceholder: 'empty' } }).graph,
    );
    await empty.test('/', { q: null, client: { name: 'Ana' } });
    expect(sentMessages(server, 0)).toEqual([
      { role: 'system', content: SYSTEM },
      { role: 'user', content: 'Client Ana asks: {question}' },
    ]);
    expect(sentMessages(server, 1)).toEqual([
      { role: 'system', content: SYSTEM },
      { role: 'user', content: 'Client Ana asks: ' },
    ]);
  });

  test('with placeholders, an input that is not an object fails with 400 SG_ERR_LLM_INPUT', async () => {
    const server = await openai();
    const s = serve(llmGraph('finance', financePrompt(server)).graph);
    await rejectsWithin(s.test('/', ['Ana', 'q']), 'SG_ERR_LLM_INPUT', 400);
    await rejectsWithin(s.test('/', 'Are rates going up?'), 'SG_ERR_LLM_INPUT', 400);
    expect(generations(server)).toHaveLength(0);
  });
});

describe('LLModel: model parameters', () => {
  const bad: [string, Record<string, unknown>][] = [
    ["onMissingPlaceholder: 'x'", { onMissingPlaceholder: 'x' }],
    ["requestConfig: ['stream']", { requestConfig: ['stream'] }],
    ["requestConfig: 'temperature'", { requestConfig: 'temperature' }],
    ['maxBatchConcurrency: 0', { maxBatchConcurrency: 0 }],
    ['maxBatchConcurrency: 1.5', { maxBatchConcurrency: 1.5 }],
  ];
  for (const [what, modelParameters] of bad) {
    test(`${what} throws SG_ERR_INVALID_OPTION from addModel`, async () => {
      const server = await openai();
      const runner = new ModelRunnerStep({ name: 'runner' });
      const err = throwsSg(
        () =>
          runner.addModel({
            endpointName: 'finance',
            modelClass: 'LLModel',
            executionMechanism: 'asyncio',
            modelArtifact: financePrompt(server),
            modelParameters,
          }),
        'SG_ERR_INVALID_OPTION',
      );
      expect(err.message).toContain('finance');
    });
  }

  test("requestConfig: ['temperature'] lets the body's temperature reach the provider; unlisted keys never do", async () => {
    const server = await openai({ answer: ANSWER });
    const listed = serve(
      llmGraph('listed', financePrompt(server), { modelParameters: { requestConfig: ['temperature'] } }).graph,
    );
    await listed.test('/', { ...BODY, temperature: 0.2, max_tokens: 9 });
    const unlisted = serve(llmGraph('unlisted', financePrompt(server)).graph);
    await unlisted.test('/', { ...BODY, temperature: 0.2, max_tokens: 9 });
    expect(sentBody(server, 0).temperature).toBe(0.2);
    expect('max_tokens' in sentBody(server, 0)).toBe(false);
    expect('temperature' in sentBody(server, 1)).toBe(false);
    expect('max_tokens' in sentBody(server, 1)).toBe(false);
    // a listed key the input does not have is not sent either
    await listed.test('/', BODY);
    expect('temperature' in sentBody(server, 2)).toBe(false);
  });

  test("the model artifact's defaultConfig lies under the prompt's invocationConfig, the listed request keys over both", async () => {
    const server = await openai({ answer: ANSWER });
    const gpt = new ModelArtifact({
      key: 'gpt-mini',
      modelUrl: 'openai://test-model',
      defaultConfig: { temperature: 0.3, max_tokens: 50, seed: 7 },
      providerOptions: providerOptions(server),
    });
    const prompt = new LLMPromptArtifact({
      key: 'finance-prompt',
      modelArtifact: gpt,
      promptTemplate: 'Client asks: {q}',
      invocationConfig: { max_tokens: 200, stop: ['\n'] },
    });
    const plain = serve(llmGraph('plain', prompt).graph);
    await plain.test('/', { q: 'x', temperature: 1 });
    // the provider may say `stream: false` explicitly; nothing else beyond the merged config is sent
    const { model, messages, stream, ...config } = sentBody(server, 0);
    expect(model).toBe('test-model');
    expect(messages).toEqual([{ role: 'user', content: 'Client asks: x' }]);
    expect(stream).not.toBe(true);
    expect(config).toEqual({ temperature: 0.3, max_tokens: 200, seed: 7, stop: ['\n'] });
    const listed = serve(
      llmGraph('listed', prompt, { modelParameters: { requestConfig: ['temperature', 'max_tokens'] } }).graph,
    );
    await listed.test('/', { q: 'x', temperature: 0.9, max_tokens: 5 });
    const { model: _m, messages: _s, stream: _st, ...config2 } = sentBody(server, 1);
    expect(config2).toEqual({ temperature: 0.9, max_tokens: 5, seed: 7, stop: ['\n'] });
  });
});

describe('LLModel without a template', () => {
  const messages = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hello {name}, is {x} literal?', name: 'ana' },
  ];

  test("a prompt without template: the body's messages are sent as they are", async () => {
    const server = await openai({ answer: ANSWER, usage: SERVER_USAGE });
    const prompt = promptFor(server, { invocationConfig: { temperature: 0 } });
    const s = serve(llmGraph('chat', prompt, { resultPath: 'out' }).graph);
    const body = { messages, other: 1 };
    expect(await s.test('/', body)).toEqual({ ...body, out: { answer: ANSWER, usage: SERVER_USAGE } });
    expect(sentMessages(server)).toEqual(messages);
    expect(sentBody(server).temperature).toBe(0);
  });

  test('a plain ModelArtifact (no prompt artifact) reads messages from the input too, under thread_pool', async () => {
    const server = await openai({ answer: ANSWER, usage: SERVER_USAGE });
    const model = new ModelArtifact({
      key: 'gpt',
      modelUrl: 'openai://test-model',
      providerOptions: providerOptions(server),
    });
    const s = serve(llmGraph('chat', model, { mechanism: 'thread_pool', inputPath: 'chat' }).graph);
    expect(await s.test('/', { chat: { messages } })).toEqual({ answer: ANSWER, usage: SERVER_USAGE });
    expect(sentMessages(server)).toEqual(messages);
  });

  test('missing or malformed messages fail with 400 SG_ERR_LLM_INPUT', async () => {
    const server = await openai();
    const s = serve(llmGraph('chat', promptFor(server)).graph);
    await rejectsWithin(s.test('/', { q: 'no messages' }), 'SG_ERR_LLM_INPUT', 400);
    await rejectsWithin(s.test('/', { messages: [] }), 'SG_ERR_LLM_INPUT', 400);
    await rejectsWithin(s.test('/', { messages: [{ role: 'user' }] }), 'SG_ERR_LLM_INPUT', 400);
    expect(generations(server)).toHaveLength(0);
  });
});
