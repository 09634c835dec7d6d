import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { LLMPromptArtifact } from '../../src/llm/prompt-artifact.js';
import { startOpenAITestServer } from '../../src/testing/index.js';
import {
  cleanEnvEachTest,
  closeServersAfterEach,
  messages,
  openaiProvider,
  providerFor,
  rejectsSg,
  track,
} from './provider-fixtures.js';

closeServersAfterEach();
cleanEnvEachTest(['MY_LLM_KEY', 'PROMPT_KEY_VAR']);

const prompt = (providerOptions: Record<string, unknown>) =>
  new LLMPromptArtifact({ key: 'p', modelUrl: 'openai://test-model', promptTemplate: 'Hi', providerOptions });

describe('OpenAI provider: credentials', () => {
  it('openai:// with no key and no baseURL is SG_ERR_PROVIDER_CREDENTIALS at load', async () => {
    expect(process.env.OPENAI_API_KEY).toBeUndefined();
    expect(process.env.OPENAI_BASE_URL).toBeUndefined();
    const err = await rejectsSg(providerFor('openai://x'), 'SG_ERR_PROVIDER_CREDENTIALS');
    expect(err.message).toContain('openai://x needs an API key');
    expect(err.message).toContain('OPENAI_API_KEY');
    expect(err.message).toContain('providerOptions.apiKeyEnv');
    expect(err.message).toContain('baseURL');
  });

  // llm.md section 3.3 gives the message: "endpoint 'finance': openai://gpt-4o-mini needs an API key: …"
  it('the credentials error names the endpoint, as the spec message does', async () => {
    const err = await rejectsSg(providerFor('openai://gpt-4o-mini'), 'SG_ERR_PROVIDER_CREDENTIALS');
    expect(err.message).toBe(
      "endpoint 'e': openai://gpt-4o-mini needs an API key: set OPENAI_API_KEY, providerOptions.apiKeyEnv, or a baseURL for a local server",
    );
  });

  it('an empty OPENAI_API_KEY counts as unset', async () => {
    process.env.OPENAI_API_KEY = '';
    await rejectsSg(providerFor('openai://x'), 'SG_ERR_PROVIDER_CREDENTIALS');
  });

  it('apiKeyEnv naming an unset variable: SG_ERR_PROVIDER_CREDENTIALS naming that variable, even with OPENAI_API_KEY set', async () => {
    process.env.OPENAI_API_KEY = 'sk-default';
    const err = await rejectsSg(providerFor('openai://x', { apiKeyEnv: 'MY_LLM_KEY' }), 'SG_ERR_PROVIDER_CREDENTIALS');
    expect(err.message).toContain('MY_LLM_KEY');
    expect(err.message).not.toContain('sk-default');
  });

  it('a custom baseURL without a key sends Authorization: Bearer EMPTY', async () => {
    const server = await track(startOpenAITestServer({ answer: 'ok' }));
    const p = await providerFor('openai://test-model', { baseURL: server.url });
    expect(await p.invoke(messages, {}, { responseFormat: 'string' })).toBe('ok');
    expect(server.requests[0].headers.authorization).toBe('Bearer EMPTY');
  });

  it('OPENAI_API_KEY alone is enough to load, with the SDK default base URL', async () => {
    process.env.OPENAI_API_KEY = 'sk-env';
    const p = await providerFor('openai://gpt-4o-mini');
    const client = p.client as OpenAI;
    expect(client.baseURL).toBe('https://api.openai.com/v1');
    expect(client.apiKey).toBe('sk-env');
    expect(client.maxRetries).toBe(0);
    expect(p.options.apiKey).toBe('sk-env');
  });
});

describe('OpenAI provider: environment and precedence', () => {
  it('reads OPENAI_BASE_URL and OPENAI_API_KEY', async () => {
    const server = await track(startOpenAITestServer({ answer: 'from env' }));
    process.env.OPENAI_BASE_URL = server.url;
    process.env.OPENAI_API_KEY = 'sk-env';
    const p = await providerFor('openai://test-model');
    expect(await p.invoke(messages, {}, { responseFormat: 'string' })).toBe('from env');
    expect(server.requests[0].headers.authorization).toBe('Bearer sk-env');
  });

  it('apiKeyEnv names the variable holding the key', async () => {
    const server = await track(startOpenAITestServer({ answer: 'ok' }));
    process.env.OPENAI_API_KEY = 'sk-default';
    process.env.MY_LLM_KEY = 'sk-mine';
    const p = await providerFor('openai://test-model', { baseURL: server.url, apiKeyEnv: 'MY_LLM_KEY' });
    await p.invoke(messages);
    expect(server.requests[0].headers.authorization).toBe('Bearer sk-mine');
  });

  it("a prompt artifact's apiKeyEnv is honoured too", async () => {
    const server = await track(startOpenAITestServer({ answer: 'ok' }));
    process.env.PROMPT_KEY_VAR = 'sk-prompt-env';
    const p = await providerFor(
      'openai://test-model',
      { baseURL: server.url },
      {
        prompt: prompt({ apiKeyEnv: 'PROMPT_KEY_VAR' }),
      },
    );
    await p.invoke(messages);
    expect(server.requests[0].headers.authorization).toBe('Bearer sk-prompt-env');
  });

  it('key: prompt providerOptions > model providerOptions > environment', async () => {
    const server = await track(startOpenAITestServer({ answer: 'ok' }));
    process.env.OPENAI_API_KEY = 'sk-env';
    const byPrompt = await providerFor(
      'openai://test-model',
      { baseURL: server.url, apiKey: 'sk-model' },
      {
        prompt: prompt({ apiKey: 'sk-prompt' }),
      },
    );
    const byModel = await providerFor('openai://test-model', { baseURL: server.url, apiKey: 'sk-model' });
    const byEnv = await providerFor('openai://test-model', { baseURL: server.url });
    for (const p of [byPrompt, byModel, byEnv]) await p.invoke(messages);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer sk-prompt',
      'Bearer sk-model',
      'Bearer sk-env',
    ]);
  });

  it('baseURL: prompt providerOptions > model providerOptions > OPENAI_BASE_URL', async () => {
    const [a, b, c] = await Promise.all(
      ['prompt', 'model', 'env'].map((answer) => track(startOpenAITestServer({ answer }))),
    );
    process.env.OPENAI_BASE_URL = c.url;
    process.env.OPENAI_API_KEY = 'sk-env';
    const answers: unknown[] = [];
    const byPrompt = await providerFor('openai://m', { baseURL: b.url }, { prompt: prompt({ baseURL: a.url }) });
    const byModel = await providerFor('openai://m', { baseURL: b.url });
    const byEnv = await providerFor('openai://m');
    for (const p of [byPrompt, byModel, byEnv])
      answers.push(await p.invoke(messages, {}, { responseFormat: 'string' }));
    expect(answers).toEqual(['prompt', 'model', 'env']);
    expect([a, b, c].map((s) => s.requests.length)).toEqual([1, 1, 1]);
  });

  it('OPENAI_MAX_RETRIES sets maxRetries; model providerOptions win over it', async () => {
    const server = await track(startOpenAITestServer({ status: 500 }));
    process.env.OPENAI_MAX_RETRIES = '0';
    const fromEnv = await openaiProvider(server);
    expect(fromEnv.options.maxRetries).toBe(0);
    await rejectsSg(fromEnv.invoke(messages), 'SG_ERR_PROVIDER_HTTP');
    expect(server.requests).toHaveLength(1);
    const fromModel = await openaiProvider(server, { maxRetries: 1 });
    await rejectsSg(fromModel.invoke(messages), 'SG_ERR_PROVIDER_HTTP');
    expect(server.requests).toHaveLength(3);
  });

  it('OPENAI_TIMEOUT is in seconds', async () => {
    const server = await track(startOpenAITestServer({ delayMs: 5000 }));
    process.env.OPENAI_TIMEOUT = '0.1';
    const p = await openaiProvider(server, { maxRetries: 0 });
    expect(p.options.timeoutMs).toBe(100);
    const started = Date.now();
    await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('defaults: timeouts, retries, backoff, stream usage, headers', async () => {
    const server = await track(startOpenAITestServer());
    const p = await providerFor('openai://test-model', { baseURL: server.url });
    expect(p.options).toMatchObject({
      timeoutMs: 60_000,
      streamIdleTimeoutMs: 30_000,
      maxRetries: 2,
      retryBaseDelayMs: 500,
      retryMaxDelayMs: 8000,
      includeStreamUsage: true,
      headers: {},
    });
  });

  it('organization and project, from options or OPENAI_ORG_ID / OPENAI_PROJECT_ID, are sent as OpenAI headers', async () => {
    const server = await track(startOpenAITestServer());
    const fromOptions = await openaiProvider(server, { organization: 'org-opt', project: 'proj-opt' });
    await fromOptions.invoke(messages);
    process.env.OPENAI_ORG_ID = 'org-env';
    process.env.OPENAI_PROJECT_ID = 'proj-env';
    const fromEnv = await openaiProvider(server);
    await fromEnv.invoke(messages);
    expect(server.requests[0].headers).toMatchObject({
      'openai-organization': 'org-opt',
      'openai-project': 'proj-opt',
    });
    expect(server.requests[1].headers).toMatchObject({
      'openai-organization': 'org-env',
      'openai-project': 'proj-env',
    });
  });

  it('sends no organization or project header when none is set', async () => {
    const server = await track(startOpenAITestServer());
    const p = await openaiProvider(server);
    await p.invoke(messages);
    expect(server.requests[0].headers).not.toHaveProperty('openai-organization');
    expect(server.requests[0].headers).not.toHaveProperty('openai-project');
  });
});
