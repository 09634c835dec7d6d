// One shared LLModel serving several proxies (llm.md section 2.5; model-runner.md section 7): each proxy's
// own prompt, endpoint record and usage, streaming decided per proxy, and the build-time errors.
// thread_pool loads dist/: run `npm run build` first.
import { describe, expect, test } from 'vitest';
import { createGraph, type Graph, LLMPromptArtifact, ModelArtifact, ModelRunnerStep } from '../../src/index.js';
import {
  callRecords,
  closeLlmServersAfterEach,
  drain,
  generations,
  LLMODEL,
  type Mechanism,
  openai,
  providerOptions,
  sentBody,
  TopicSelector,
  throwsSg,
  useServers,
} from './llmodel-fixtures.js';

closeLlmServersAfterEach();
const serve = useServers();

type Server = Awaited<ReturnType<typeof openai>>;
const FINANCE_USAGE = { prompt_tokens: 30, completion_tokens: 5, total_tokens: 35 };
const TRAVEL_USAGE = { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 };
const FINANCE_SYSTEM = 'You are a careful financial analyst.';

/** A server that tells the two prompts apart: each gets its own answer and usage. */
function twoPromptServer(extra: Record<string, unknown> = {}): Promise<Server> {
  return openai({
    ...extra,
    reply: (req) =>
      JSON.stringify(req.body).includes(FINANCE_SYSTEM)
        ? { answer: 'Rates may rise.', usage: FINANCE_USAGE }
        : { answer: 'Oslo is lovely.', usage: TRAVEL_USAGE },
  });
}

/** The shared model artifact and two prompts linking it. */
function artifacts(server: Server, financeStreams = false) {
  const gpt = new ModelArtifact({
    key: 'gpt-mini',
    modelUrl: 'openai://test-model',
    defaultConfig: { temperature: 0.3 },
    providerOptions: providerOptions(server),
  });
  const finance = new LLMPromptArtifact({
    key: 'finance-prompt',
    modelArtifact: gpt,
    promptTemplate: [
      { role: 'system', content: FINANCE_SYSTEM },
      { role: 'user', content: 'Client asks: {q}' },
    ],
    invocationConfig: financeStreams ? { max_tokens: 100, stream: true } : { max_tokens: 100 },
  });
  const travel = new LLMPromptArtifact({
    key: 'travel-prompt',
    modelArtifact: gpt,
    promptTemplate: 'Describe {city}',
    promptLegend: { city: { field: 'trip.city' } },
  });
  return { gpt, finance, travel };
}

/** A graph with the shared model 'shared-gpt' and a runner holding the two proxies. */
function sharedGraph(
  server: Server,
  mechanism: Mechanism,
  options: { financeStreams?: boolean; selector?: boolean } = {},
): Graph {
  const { gpt, finance, travel } = artifacts(server, options.financeStreams);
  const graph = createGraph();
  graph.addSharedModel({ name: 'shared-gpt', modelClass: LLMODEL, executionMechanism: mechanism, modelArtifact: gpt });
  const runner = new ModelRunnerStep({
    name: 'runner',
    modelSelector: options.selector ? new TopicSelector() : undefined,
  });
  runner.addSharedModelProxy({ endpointName: 'finance', modelArtifact: finance }); // found by its artifact
  runner.addSharedModelProxy({
    endpointName: 'travel',
    modelArtifact: travel,
    sharedModelName: 'shared-gpt',
    labels: { team: 'trips' },
  });
  graph.to(runner).respond();
  return graph;
}

const BODY = { q: 'Are rates going up?', trip: { city: 'Oslo' } };

/** The recorded request whose messages match one prompt. */
function requestOf(server: Server, which: 'finance' | 'travel'): Record<string, unknown> {
  const found = generations(server).filter(
    (r) => JSON.stringify(r.body).includes(FINANCE_SYSTEM) === (which === 'finance'),
  );
  expect(found).toHaveLength(1);
  return found[0].body as Record<string, unknown>;
}

describe('a shared LLModel with several proxies', () => {
  for (const mechanism of ['asyncio', 'thread_pool'] as Mechanism[]) {
    test(`${mechanism}: each proxy uses its own prompt and config, answers under its own name, has its own record`, async () => {
      const server = await twoPromptServer();
      const s = serve(sharedGraph(server, mechanism));
      expect(await s.test('/', BODY)).toEqual({
        finance: { answer: 'Rates may rise.', usage: FINANCE_USAGE },
        travel: { answer: 'Oslo is lovely.', usage: TRAVEL_USAGE },
      });
      expect(generations(server)).toHaveLength(2);
      const finance = requestOf(server, 'finance');
      expect(finance.messages).toEqual([
        { role: 'system', content: FINANCE_SYSTEM },
        { role: 'user', content: 'Client asks: Are rates going up?' },
      ]);
      expect(finance).toMatchObject({ model: 'test-model', temperature: 0.3, max_tokens: 100 });
      const travel = requestOf(server, 'travel');
      expect(travel.messages).toEqual([{ role: 'user', content: 'Describe Oslo' }]);
      expect(travel.temperature).toBe(0.3);
      expect('max_tokens' in travel).toBe(false);
      const [f] = await callRecords(s, 'finance');
      expect(f).toMatchObject({ outcome: 'ok', promptTokens: 30, completionTokens: 5, totalTokens: 35 });
      expect(f.usage).toEqual(FINANCE_USAGE);
      const [t] = await callRecords(s, 'travel');
      expect(t).toMatchObject({ outcome: 'ok', promptTokens: 12, completionTokens: 3, totalTokens: 15 });
      expect(await s.monitoring.getEndpoint('finance')).toMatchObject({
        kind: 'proxy',
        sharedModel: 'shared-gpt',
        step: 'runner',
        executionMechanism: mechanism, // proxies show the shared model's (monitoring.md section 1)
        modelClass: LLMODEL,
      });
      expect((await s.monitoring.getEndpoint('travel')).labels).toEqual({ team: 'trips' });
    });

    test(`${mechanism}: streaming is decided per proxy: 'finance' streams, 'travel' does not`, async () => {
      const server = await twoPromptServer();
      const s = serve(sharedGraph(server, mechanism, { financeStreams: true, selector: true }));
      const st = s.testStream('/', { ...BODY, topic: 'finance' });
      expect(await drain(st)).toEqual(['Rates', ' may', ' rise.']);
      expect(await st.done).toMatchObject({ chunks: 3, usage: FINANCE_USAGE, finishReason: 'stop' });
      const plain = await drain(s.testStream('/', { ...BODY, topic: 'travel' }));
      expect(plain).toEqual([{ travel: { answer: 'Oslo is lovely.', usage: TRAVEL_USAGE } }]);
      const finance = requestOf(server, 'finance');
      expect(finance.stream).toBe(true);
      expect(finance.stream_options).toEqual({ include_usage: true });
      expect(requestOf(server, 'travel').stream).not.toBe(true);
      // collected, the streaming proxy answers what it would without streaming
      expect(await s.test('/', { ...BODY, topic: 'finance' })).toEqual({
        finance: { answer: 'Rates may rise.', usage: FINANCE_USAGE },
      });
      const fin = await callRecords(s, 'finance', 2);
      expect(fin.map((c) => c.streamed)).toEqual([true, true]);
      expect(fin[0]).toMatchObject({ promptTokens: 30, completionTokens: 5, totalTokens: 35 });
      const [tr] = await callRecords(s, 'travel');
      expect(tr).toMatchObject({ streamed: false, promptTokens: 12 });
    });
  }

  test('a runner with a streaming proxy and another endpoint needs a selector (SG_ERR_STREAM_PARALLEL)', async () => {
    const server = await twoPromptServer();
    throwsSg(() => sharedGraph(server, 'asyncio', { financeStreams: true }).validate(), 'SG_ERR_STREAM_PARALLEL');
    // without a streaming proxy no selector is needed
    sharedGraph(server, 'asyncio').validate();
  });

  test('a process_pool shared model is held to the mechanism rule only by its streaming proxies', async () => {
    const server = await twoPromptServer();
    const err = throwsSg(
      () => sharedGraph(server, 'process_pool', { financeStreams: true, selector: true }).validate(),
      'SG_ERR_STREAM_MECHANISM',
    );
    expect(err.message).toContain('finance');
    sharedGraph(server, 'process_pool', { selector: true }).validate();
  });

  test('a prompt made with the modelUrl shorthand finds the shared model by modelUrl', async () => {
    const server = await twoPromptServer();
    const { gpt } = artifacts(server);
    const graph = createGraph();
    graph.addSharedModel({
      name: 'shared-gpt',
      modelClass: LLMODEL,
      executionMechanism: 'asyncio',
      modelArtifact: gpt,
    });
    const short = new LLMPromptArtifact({ key: 'short', modelUrl: 'openai://test-model', promptTemplate: 'Say {w}' });
    graph
      .to(new ModelRunnerStep({ name: 'runner' }).addSharedModelProxy({ endpointName: 'short', modelArtifact: short }))
      .respond();
    const s = serve(graph);
    expect(await s.test('/', { w: 'hi' })).toEqual({ answer: 'Oslo is lovely.', usage: TRAVEL_USAGE });
    expect(sentBody(server).messages).toEqual([{ role: 'user', content: 'Say hi' }]);
    // the shared model artifact's defaultConfig lies under the proxy's prompt
    expect(sentBody(server).temperature).toBe(0.3);
  });
});

describe('shared LLModel: build-time errors', () => {
  test('two proxies with the same endpoint name: SG_ERR_DUPLICATE_ENDPOINT (one runner, or two)', async () => {
    const server = await twoPromptServer();
    const { gpt, finance, travel } = artifacts(server);
    const runner = new ModelRunnerStep({ name: 'runner' });
    runner.addSharedModelProxy({ endpointName: 'answer', modelArtifact: finance });
    throwsSg(
      () => runner.addSharedModelProxy({ endpointName: 'answer', modelArtifact: travel }),
      'SG_ERR_DUPLICATE_ENDPOINT',
    );
    const err = throwsSg(() => {
      const graph = createGraph();
      graph.addSharedModel({
        name: 'shared-gpt',
        modelClass: LLMODEL,
        executionMechanism: 'asyncio',
        modelArtifact: gpt,
      });
      const r1 = new ModelRunnerStep({ name: 'r1' }).addSharedModelProxy({
        endpointName: 'answer',
        modelArtifact: finance,
      });
      const r2 = new ModelRunnerStep({ name: 'r2' }).addSharedModelProxy({
        endpointName: 'answer',
        modelArtifact: travel,
      });
      graph.to(r1).to(r2).respond();
      graph.validate();
    }, 'SG_ERR_DUPLICATE_ENDPOINT');
    expect(err.message).toContain('answer');
  });

  test('a proxy whose prompt names another model artifact: MISMATCH with sharedModelName, UNKNOWN without', async () => {
    const server = await twoPromptServer();
    const { gpt } = artifacts(server);
    const other = new ModelArtifact({ key: 'other-llm', modelUrl: 'openai://other' });
    const foreign = new LLMPromptArtifact({ key: 'foreign', modelArtifact: other, promptTemplate: 'x' });
    const build = (byName: boolean) => {
      const graph = createGraph();
      graph.addSharedModel({
        name: 'shared-gpt',
        modelClass: LLMODEL,
        executionMechanism: 'asyncio',
        modelArtifact: gpt,
      });
      const runner = new ModelRunnerStep({ name: 'runner' }).addSharedModelProxy({
        endpointName: 'foreign',
        modelArtifact: foreign,
        sharedModelName: byName ? 'shared-gpt' : undefined,
      });
      graph.to(runner).respond();
      return graph;
    };
    const mismatch = throwsSg(() => build(true).validate(), 'SG_ERR_SHARED_MODEL_MISMATCH');
    expect(mismatch).toMatchObject({ step: 'runner', endpoint: 'foreign' });
    expect(mismatch.message).toContain('shared-gpt');
    const unknown = throwsSg(() => build(false).validate(), 'SG_ERR_UNKNOWN_SHARED_MODEL');
    expect(unknown).toMatchObject({ step: 'runner', endpoint: 'foreign' });
    throwsSg(() => serve(build(true)), 'SG_ERR_SHARED_MODEL_MISMATCH');
  });
});
