// LLModel errors (llm.md sections 2.1 and 3.8): provider failures at call time, and bad configuration that
// fails start-up naming the endpoint. process_pool loads dist/: run `npm run build` first.
import { describe, expect, test } from 'vitest';
import {
  type ChatMessage,
  type createMockServer,
  type Graph,
  type InvokeOptions,
  LLModel,
  LLMPromptArtifact,
  type LLMResult,
  ModelArtifact,
  type ModelCallContext,
  ModelProvider,
  registerProvider,
  SgError,
} from '../../src/index.js';
import {
  closeLlmServersAfterEach,
  codeChain,
  generations,
  llmGraph,
  openai,
  promptFor,
  rejectsWithin,
  useServers,
  withEnv,
} from './llmodel-fixtures.js';

closeLlmServersAfterEach();
const serve = useServers();

/** The start-up error of a graph: thrown by createMockServer (build time) or rejected by ready() and test(). */
async function startFailure(graph: Graph): Promise<SgError> {
  let s: ReturnType<typeof createMockServer>;
  try {
    s = serve(graph);
  } catch (err) {
    expect(err).toBeInstanceOf(SgError);
    return err as SgError;
  }
  const viaTest = await s.test('/', { q: 'x' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  const viaReady = await s.ready().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(viaTest, 'test() should reject').toBeInstanceOf(SgError);
  expect(viaReady, 'ready() should reject').toBeInstanceOf(SgError);
  expect((viaReady as SgError).code).toBe((viaTest as SgError).code);
  return viaTest as SgError;
}

/** Assert a start-up error: its code, and the endpoint named (field and message). */
function expectNamed(err: SgError, code: string, endpoint: string): void {
  expect(err.code, err.message).toBe(code);
  expect(err.endpoint).toBe(endpoint);
  expect(err.message).toContain(`'${endpoint}'`);
}

describe('LLModel: provider errors at call time', () => {
  test('a server answering 500 forever: SG_ERR_PROVIDER_HTTP in the chain, reply status 502, after 1 + 2 retries', async () => {
    const server = await openai({ status: 500 });
    const s = serve(llmGraph('finance', promptFor(server, { promptTemplate: 'Hi {name}' })).graph);
    const err = await rejectsWithin(s.test('/', { name: 'Ana' }), 'SG_ERR_PROVIDER_HTTP', 502);
    expect(generations(server)).toHaveLength(3);
    let e: unknown = err;
    while (e instanceof SgError && e.code !== 'SG_ERR_PROVIDER_HTTP') e = e.cause;
    expect((e as SgError).details).toMatchObject({ status: 500, attempts: 3 });
    await s.monitoring.flush();
    const [call] = await s.monitoring.calls('finance');
    expect(call).toMatchObject({ outcome: 'error', errorCode: 'SG_ERR_PROVIDER_HTTP' });
  });

  test('a final 429 is status 503', async () => {
    const server = await openai({ status: 429, headers: { 'retry-after-ms': '1' } });
    const s = serve(llmGraph('finance', promptFor(server, { promptTemplate: 'Hi {name}' })).graph);
    await rejectsWithin(s.test('/', { name: 'Ana' }), 'SG_ERR_PROVIDER_HTTP', 503);
    expect(generations(server)).toHaveLength(3);
  });

  test('failing provider calls do not disturb the other events in flight', async () => {
    const server = await openai({
      answer: 'fine',
      delayMs: 20,
      reply: (req) => (JSON.stringify(req.body).includes('boom') ? { status: 500 } : undefined),
    });
    const s = serve(llmGraph('finance', promptFor(server, { promptTemplate: 'Say {word}' })).graph);
    const words = ['a', 'boom', 'b', 'c', 'boom', 'd'];
    const results = await Promise.allSettled(words.map((word) => s.test('/', { word })));
    results.forEach((r, i) => {
      if (words[i] === 'boom') {
        expect(r.status).toBe('rejected');
        const err = (r as PromiseRejectedResult).reason as SgError;
        expect(codeChain(err)).toContain('SG_ERR_PROVIDER_HTTP');
        expect(err.status).toBe(502);
      } else {
        expect(r.status).toBe('fulfilled');
        expect((r as PromiseFulfilledResult<{ answer: string }>).value.answer).toBe('fine');
      }
    });
    // 4 good requests, 2 failing ones tried 3 times each
    expect(generations(server)).toHaveLength(4 + 2 * 3);
    await s.monitoring.flush();
    expect(await s.monitoring.calls('finance', { outcome: 'ok' })).toHaveLength(4);
    expect(await s.monitoring.calls('finance', { outcome: 'error' })).toHaveLength(2);
  });
});

describe('LLModel: configuration errors fail start-up, naming the endpoint', () => {
  test('openai:// without credentials: SG_ERR_PROVIDER_CREDENTIALS', async () => {
    const restore = withEnv({ OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined });
    try {
      const prompt = new LLMPromptArtifact({ key: 'p', modelUrl: 'openai://x', promptTemplate: 'Hi {name}' });
      expectNamed(await startFailure(llmGraph('finance', prompt).graph), 'SG_ERR_PROVIDER_CREDENTIALS', 'finance');
    } finally {
      restore();
    }
  });

  test('huggingface:// without endpointUrl: SG_ERR_PROVIDER_UNAVAILABLE', async () => {
    const restore = withEnv({ HF_ENDPOINT_URL: undefined });
    try {
      const prompt = new LLMPromptArtifact({ key: 'p', modelUrl: 'huggingface://x', promptTemplate: 'Hi' });
      expectNamed(await startFailure(llmGraph('travel', prompt).graph), 'SG_ERR_PROVIDER_UNAVAILABLE', 'travel');
    } finally {
      restore();
    }
  });

  test('transformers://: SG_ERR_PROVIDER_UNAVAILABLE', async () => {
    const prompt = new LLMPromptArtifact({ key: 'p', modelUrl: 'transformers://x', promptTemplate: 'Hi' });
    expectNamed(await startFailure(llmGraph('local', prompt).graph), 'SG_ERR_PROVIDER_UNAVAILABLE', 'local');
  });

  test('transformers:// in a process_pool worker: the same code, the endpoint named', async () => {
    const prompt = new LLMPromptArtifact({ key: 'p', modelUrl: 'transformers://x', promptTemplate: 'Hi' });
    const { graph } = llmGraph('local', prompt, { mechanism: 'process_pool' });
    expectNamed(await startFailure(graph), 'SG_ERR_PROVIDER_UNAVAILABLE', 'local');
  });

  test('an unknown scheme: SG_ERR_MODEL_URL_INVALID', async () => {
    const prompt = new LLMPromptArtifact({ key: 'p', modelUrl: 'nosuchscheme://x', promptTemplate: 'Hi' });
    const err = await startFailure(llmGraph('odd', prompt).graph);
    expectNamed(err, 'SG_ERR_MODEL_URL_INVALID', 'odd');
    expect(err.message).toContain('nosuchscheme');
  });

  test('a ModelArtifact without modelUrl: SG_ERR_LLM_NO_PROVIDER', async () => {
    const model = new ModelArtifact({ key: 'no-url' });
    const prompt = new LLMPromptArtifact({ key: 'p', modelArtifact: model, promptTemplate: 'Hi {name}' });
    expectNamed(await startFailure(llmGraph('bare', prompt).graph), 'SG_ERR_LLM_NO_PROVIDER', 'bare');
    expectNamed(await startFailure(llmGraph('bare2', model).graph), 'SG_ERR_LLM_NO_PROVIDER', 'bare2');
  });

  test('...but a subclass that overrides predictAsync loads and serves without a provider', async () => {
    class Canned extends LLModel {
      override async predictAsync(input: unknown, ctx: ModelCallContext): Promise<LLMResult> {
        const { messages } = await this.enrichPrompt(input, ctx.endpointName, this.promptFor(ctx));
        const usage = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };
        ctx.recordUsage(usage);
        return { answer: `canned: ${messages.at(-1)?.content}`, usage };
      }
    }
    const model = new ModelArtifact({ key: 'no-url' });
    const prompt = new LLMPromptArtifact({ key: 'p', modelArtifact: model, promptTemplate: 'Hi {name}' });
    const s = serve(llmGraph('canned', prompt, { modelClass: Canned, resultPath: 'out' }).graph);
    await s.ready();
    expect(await s.test('/', { name: 'Ana' })).toEqual({
      name: 'Ana',
      out: { answer: 'canned: Hi Ana', usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } },
    });
  });
});

describe('LLModel: custom providers', () => {
  const usage = { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 };
  class ShoutProvider extends ModelProvider {
    override async invokeAsync(messages: ChatMessage[], config: object = {}, options: InvokeOptions = {}) {
      const answer = `${String(messages.at(-1)?.content ?? '').toUpperCase()}${JSON.stringify(config)}`;
      return options.responseFormat === 'string' ? answer : { answer, usage };
    }
  }
  registerProvider('llmodel-test-shout', ShoutProvider);

  test('a registered provider answers through LLModel, with the merged config', async () => {
    const model = new ModelArtifact({
      key: 'shout',
      modelUrl: 'llmodel-test-shout://any',
      defaultConfig: { temperature: 0 },
    });
    const prompt = new LLMPromptArtifact({ key: 'p', modelArtifact: model, promptTemplate: 'hi {name}' });
    const s = serve(llmGraph('shout', prompt).graph);
    expect(await s.test('/', { name: 'ana' })).toEqual({ answer: 'HI ANA{"temperature":0}', usage });
  });

  test('a provider without stream, used with stream: true: SG_ERR_PROVIDER_CAPABILITY', async () => {
    const prompt = new LLMPromptArtifact({
      key: 'p',
      modelUrl: 'llmodel-test-shout://any',
      promptTemplate: 'hi {name}',
      invocationConfig: { stream: true },
    });
    expectNamed(await startFailure(llmGraph('loud', prompt).graph), 'SG_ERR_PROVIDER_CAPABILITY', 'loud');
  });
});
