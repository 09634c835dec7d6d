import { describe, expect, it } from 'vitest';
import { OpenAIProvider } from '../../src/llm/providers/openai.js';
import { resolveProviderOptions } from '../../src/llm/providers/options.js';
import { startOpenAITestServer } from '../../src/testing/index.js';
import {
  chatEstimate,
  cleanEnvEachTest,
  closeServersAfterEach,
  messages,
  openaiProvider,
  rejectsSg,
  track,
} from './provider-fixtures.js';

closeServersAfterEach();
cleanEnvEachTest();

/** A usage object as a server may send it: both details objects and a key of the server's own. */
const serverUsage = {
  prompt_tokens: 14,
  completion_tokens: 59,
  total_tokens: 73,
  completion_tokens_details: {
    accepted_prediction_tokens: 1,
    audio_tokens: 2,
    reasoning_tokens: 3,
    rejected_prediction_tokens: 4,
  },
  prompt_tokens_details: { audio_tokens: 5, cached_tokens: 6 },
  queue_time: 0.25,
  vendor_extra: { nested: { deep: [1, 2, 3] } },
};

/** A ChatCompletion body with the given choices (for rawBody). */
function completionBody(
  choices: unknown[],
  usage: unknown = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
) {
  return JSON.stringify({ id: 'c1', object: 'chat.completion', created: 0, model: 'test-model', choices, usage });
}

/** A recorded body without its `stream` key (the exact body is checked once, in its own test). */
function sansStream(body: unknown): Record<string, unknown> {
  const { stream: _stream, ...rest } = body as Record<string, unknown>;
  return rest;
}

const choice = (message: Record<string, unknown>) => ({ index: 0, message, finish_reason: 'stop', logprobs: null });

describe('OpenAI provider: request', () => {
  // llm.md section 3.4: the request is exactly {model, messages, ...config}
  it('sends exactly {model, messages, ...config} to /chat/completions, with the SDK key', async () => {
    const server = await track(startOpenAITestServer({ answer: 'Hi' }));
    const p = await openaiProvider(server, {}, { model: 'meta-llama/Llama-3.1-8B-Instruct' });
    await p.invoke(messages, { temperature: 0.5, max_tokens: 7, seed: 3 });
    expect(server.requests).toHaveLength(1);
    const [r] = server.requests;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/v1/chat/completions');
    expect(r.headers.authorization).toBe('Bearer test');
    expect(r.body).toEqual({
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      messages,
      temperature: 0.5,
      max_tokens: 7,
      seed: 3,
    });
  });

  it('merges config over the model artifact defaultConfig, key by key', async () => {
    const server = await track(startOpenAITestServer({ answer: 'Hi' }));
    const p = await openaiProvider(server, {}, { defaultConfig: { temperature: 0.1, max_tokens: 5, top_p: 0.9 } });
    expect(p.defaultConfig).toEqual({ temperature: 0.1, max_tokens: 5, top_p: 0.9 });
    await p.invoke(messages, { temperature: 0.9 });
    await p.invoke(messages);
    expect(sansStream(server.requests[0].body)).toEqual({
      model: 'test-model',
      messages,
      temperature: 0.9,
      max_tokens: 5,
      top_p: 0.9,
    });
    expect(sansStream(server.requests[1].body)).toEqual({
      model: 'test-model',
      messages,
      temperature: 0.1,
      max_tokens: 5,
      top_p: 0.9,
    });
  });

  it('keeps model ids holding ":" verbatim', async () => {
    const server = await track(startOpenAITestServer({ answer: 'Hi' }));
    const p = await openaiProvider(server, {}, { model: 'llama3.2:1b' });
    expect(p.model).toBe('llama3.2:1b');
    expect(p.scheme).toBe('openai');
    await p.invoke(messages);
    expect((server.requests[0].body as { model: string }).model).toBe('llama3.2:1b');
  });

  it('can be built directly from resolved options', async () => {
    const server = await track(startOpenAITestServer({ answer: 'Direct' }));
    const options = resolveProviderOptions({ model: { baseURL: server.url, apiKey: 'k2' } });
    const p = new OpenAIProvider({ scheme: 'openai', model: 'test-model', options, defaultConfig: { max_tokens: 2 } });
    expect(p.supportsStreaming).toBe(true);
    await p.load();
    await p.load(); // idempotent
    expect(p.client).toBeDefined();
    expect(await p.invoke(messages, {}, { responseFormat: 'string' })).toBe('Direct');
    expect(server.requests[0].headers.authorization).toBe('Bearer k2');
    expect(sansStream(server.requests[0].body)).toEqual({ model: 'test-model', messages, max_tokens: 2 });
    await p.close();
  });
});

describe('OpenAI provider: usage and response formats', () => {
  it('copies the server usage exactly, every key at every depth, nothing added', async () => {
    const server = await track(startOpenAITestServer({ answer: 'Hello there', usage: serverUsage }));
    const p = await openaiProvider(server);
    const r = (await p.invoke(messages)) as { answer: string; usage: Record<string, unknown> };
    expect(r).toStrictEqual({ answer: 'Hello there', usage: serverUsage });
    expect(r.usage).not.toHaveProperty('estimated');
  });

  it('copies the default usage of the test server (both details objects) exactly', async () => {
    const server = await track(startOpenAITestServer({ answer: 'Hello there' }));
    const p = await openaiProvider(server);
    const full = (await p.invoke(messages, {}, { responseFormat: 'full' })) as { usage: unknown };
    const r = (await p.invoke(messages)) as { usage: unknown };
    expect(r.usage).toStrictEqual(full.usage);
    expect(Object.keys(r.usage as object).sort()).toEqual([
      'completion_tokens',
      'completion_tokens_details',
      'prompt_tokens',
      'prompt_tokens_details',
      'total_tokens',
    ]);
  });

  it("'string' answers the text, 'usage' (default) {answer, usage}, 'full' the ChatCompletion", async () => {
    const server = await track(startOpenAITestServer({ answer: 'Hello there', usage: serverUsage }));
    const p = await openaiProvider(server);
    expect(await p.invoke(messages, {}, { responseFormat: 'string' })).toBe('Hello there');
    expect(await p.invoke(messages, {}, { responseFormat: 'usage' })).toStrictEqual({
      answer: 'Hello there',
      usage: serverUsage,
    });
    const full = (await p.invoke(messages, {}, { responseFormat: 'full' })) as Record<string, unknown>;
    expect(full).toMatchObject({
      object: 'chat.completion',
      model: 'test-model',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there' }, finish_reason: 'stop' }],
      usage: serverUsage,
    });
    expect(await p.invokeAsync(messages)).toStrictEqual({ answer: 'Hello there', usage: serverUsage });
    expect(server.requests).toHaveLength(4);
  });

  it('with no usage from the server, counts locally by the formula of section 4, estimated', async () => {
    const server = await track(startOpenAITestServer({ answer: 'Counted locally here', usage: null }));
    const p = await openaiProvider(server);
    const r = await p.invoke(messages);
    expect(r).toStrictEqual({ answer: 'Counted locally here', usage: chatEstimate(messages, 'Counted locally here') });
  });

  it('counts locally when the usage lacks numeric prompt_tokens or completion_tokens', async () => {
    const server = await track(
      startOpenAITestServer({ answer: 'Partial usage', usage: { prompt_tokens: 3, total_tokens: 9 } }),
    );
    const p = await openaiProvider(server);
    const r = (await p.invoke(messages)) as { usage: unknown };
    expect(r.usage).toStrictEqual(chatEstimate(messages, 'Partial usage'));
  });

  it('counts names and text parts of messages in the local formula', async () => {
    const server = await track(startOpenAITestServer({ answer: 'ok', usage: null }));
    const p = await openaiProvider(server);
    const msgs = [
      {
        role: 'user',
        name: 'alice',
        content: [
          { type: 'text', text: 'Hello ' },
          { type: 'text', text: 'world' },
        ],
      },
    ];
    const r = (await p.invoke(msgs)) as { usage: { prompt_tokens: number } };
    expect(r.usage).toStrictEqual(chatEstimate(msgs, 'ok'));
    expect(r.usage.prompt_tokens).toBeGreaterThan(
      chatEstimate([{ role: 'user', content: 'Hello world' }], '').prompt_tokens,
    );
  });
});

describe('OpenAI provider: the answer of a ChatCompletion', () => {
  it('answers the refusal when content is null', async () => {
    const raw = completionBody([choice({ role: 'assistant', content: null, refusal: 'I cannot help with that.' })]);
    const server = await track(startOpenAITestServer({ rawBody: raw }));
    const p = await openaiProvider(server);
    expect(await p.invoke(messages)).toStrictEqual({
      answer: 'I cannot help with that.',
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    });
  });

  it("answers '' when content and refusal are both null", async () => {
    const raw = completionBody([choice({ role: 'assistant', content: null, refusal: null })]);
    const server = await track(startOpenAITestServer({ rawBody: raw }));
    const p = await openaiProvider(server);
    expect(await p.invoke(messages, {}, { responseFormat: 'string' })).toBe('');
  });

  it('prefers a string content to the refusal', async () => {
    const raw = completionBody([choice({ role: 'assistant', content: 'Sure.', refusal: 'No.' })]);
    const server = await track(startOpenAITestServer({ rawBody: raw }));
    const p = await openaiProvider(server);
    expect(await p.invoke(messages, {}, { responseFormat: 'string' })).toBe('Sure.');
  });

  it('a malformed JSON body is SG_ERR_PROVIDER_RESPONSE, not retried', async () => {
    const server = await track(startOpenAITestServer({ rawBody: '{"choices": [' }));
    const p = await openaiProvider(server, { maxRetries: 3 });
    await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_RESPONSE');
    expect(server.requests).toHaveLength(1);
  });

  it('two choices are SG_ERR_PROVIDER_RESPONSE for usage and string, but returned as they are by full', async () => {
    const raw = completionBody([
      choice({ role: 'assistant', content: 'one' }),
      { ...choice({ role: 'assistant', content: 'two' }), index: 1 },
    ]);
    const server = await track(startOpenAITestServer({ rawBody: raw }));
    const p = await openaiProvider(server);
    const err = await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_RESPONSE');
    expect(err.message).toContain('openai://test-model');
    await rejectsSg(p.invoke(messages, {}, { responseFormat: 'string' }), 'SG_ERR_PROVIDER_RESPONSE');
    const full = (await p.invoke(messages, {}, { responseFormat: 'full' })) as { choices: unknown[] };
    expect(full.choices).toHaveLength(2);
  });

  it('no choices is SG_ERR_PROVIDER_RESPONSE', async () => {
    const server = await track(startOpenAITestServer({ rawBody: completionBody([]) }));
    const p = await openaiProvider(server);
    await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_RESPONSE');
  });

  it('content neither string nor null is SG_ERR_PROVIDER_RESPONSE', async () => {
    const server = await track(
      startOpenAITestServer({ rawBody: completionBody([choice({ role: 'assistant', content: 42 })]) }),
    );
    const p = await openaiProvider(server);
    await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_RESPONSE');
  });
});
