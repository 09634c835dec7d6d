import { describe, expect, it } from 'vitest';
import { countTokens } from '../../src/llm/usage.js';
import { startTgiTestServer } from '../../src/testing/index.js';
import {
  abortReason,
  cleanEnvEachTest,
  closedPortUrl,
  closeServersAfterEach,
  gapMs,
  inputsEstimate,
  messages,
  rejectsSg,
  tgiProvider,
  trace,
  track,
  waitFor,
} from './provider-fixtures.js';

closeServersAfterEach();
cleanEnvEachTest();

/** `messages` in the fixed template of llm.md section 3.5. */
const inputs = '<|system|>\nYou are terse.\n<|user|>\nSay hello\n<|assistant|>\n';

describe('TGI provider: the /generate request', () => {
  it('posts {inputs, parameters} to /generate: fixed template, OpenAI names mapped, details asked', async () => {
    const server = await track(startTgiTestServer({ answer: 'Hello' }));
    const p = await tgiProvider(server);
    await p.invoke(messages, { max_tokens: 20, stop: '\n\n', temperature: 0.3, top_p: 0.9, seed: 7 });
    expect(server.requests).toHaveLength(1);
    const [r] = server.requests;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/generate');
    expect(r.headers['content-type']).toContain('application/json');
    expect(r.body).toEqual({
      inputs,
      parameters: {
        max_new_tokens: 20,
        stop: ['\n\n'],
        temperature: 0.3,
        top_p: 0.9,
        seed: 7,
        return_full_text: false,
        details: true,
        decoder_input_details: true,
      },
    });
  });

  it('keeps a list of stops, and merges config over defaultConfig', async () => {
    const server = await track(startTgiTestServer({ answer: 'Hello' }));
    const p = await tgiProvider(server, {}, { defaultConfig: { max_tokens: 5, temperature: 0.1 } });
    await p.invoke(messages, { stop: ['a', 'b'], temperature: 0.8 });
    await p.invoke(messages);
    expect((server.requests[0].body as { parameters: unknown }).parameters).toEqual({
      max_new_tokens: 5,
      temperature: 0.8,
      stop: ['a', 'b'],
      return_full_text: false,
      details: true,
      decoder_input_details: true,
    });
    expect((server.requests[1].body as { parameters: unknown }).parameters).toEqual({
      max_new_tokens: 5,
      temperature: 0.1,
      return_full_text: false,
      details: true,
      decoder_input_details: true,
    });
  });

  it('renders text parts joined, and every role, in the fixed template', async () => {
    const server = await track(startTgiTestServer({ answer: 'Hello' }));
    const p = await tgiProvider(server);
    await p.invoke([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Hello ' },
          { type: 'text', text: 'world' },
        ],
      },
      { role: 'assistant', content: 'Hi' },
      { role: 'user', content: 'Bye' },
    ]);
    expect((server.requests[0].body as { inputs: string }).inputs).toBe(
      '<|user|>\nHello world\n<|assistant|>\nHi\n<|user|>\nBye\n<|assistant|>\n',
    );
  });

  it('accepts an endpointUrl with a trailing slash, and hf:// like huggingface://', async () => {
    const server = await track(startTgiTestServer({ answer: 'Hello' }));
    const p = await tgiProvider(`${server.url}/`, {}, { scheme: 'hf', model: 'org/other' });
    expect(p.scheme).toBe('hf');
    expect(p.model).toBe('org/other');
    expect(p.supportsStreaming).toBe(true);
    expect(await p.invoke(messages, {}, { responseFormat: 'string' })).toBe('Hello');
    expect(server.requests[0].path).toBe('/generate');
  });
});

describe('TGI provider: answers and usage', () => {
  it('usage is exact from details: prompt = prefill length, completion = generated_tokens, no estimated key', async () => {
    const server = await track(
      startTgiTestServer({ answer: 'Hello there', usage: { prompt_tokens: 11, completion_tokens: 4 } }),
    );
    const p = await tgiProvider(server);
    const r = await p.invoke(messages);
    expect(r).toStrictEqual({
      answer: 'Hello there',
      usage: { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 },
    });
  });

  it("the server's default counts come through exactly", async () => {
    const server = await track(startTgiTestServer({ answer: 'Hello from TGI' }));
    const p = await tgiProvider(server);
    const r = (await p.invoke(messages)) as { usage: unknown };
    const prompt = countTokens(inputs);
    const completion = countTokens('Hello from TGI');
    expect(r.usage).toStrictEqual({
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
    });
  });

  it('prefill: false: the prompt is counted locally over the inputs string, estimated; completion stays exact', async () => {
    const server = await track(
      startTgiTestServer({ answer: 'Hello there', prefill: false, usage: { prompt_tokens: 11, completion_tokens: 4 } }),
    );
    const p = await tgiProvider(server);
    const r = (await p.invoke(messages)) as { usage: unknown };
    expect(r.usage).toStrictEqual(inputsEstimate(inputs, 4));
  });

  it('no details at all: both counts local, estimated', async () => {
    const server = await track(startTgiTestServer({ answer: 'Hello there', usage: null }));
    const p = await tgiProvider(server);
    const r = (await p.invoke(messages)) as { usage: unknown };
    expect(r.usage).toStrictEqual(inputsEstimate(inputs, countTokens('Hello there')));
  });

  it("'string' answers the text, 'full' the /generate JSON as sent", async () => {
    const server = await track(startTgiTestServer({ answer: 'Hi', usage: { prompt_tokens: 3, completion_tokens: 1 } }));
    const p = await tgiProvider(server);
    expect(await p.invoke(messages, {}, { responseFormat: 'string' })).toBe('Hi');
    const full = (await p.invoke(messages, {}, { responseFormat: 'full' })) as {
      generated_text: string;
      details: { generated_tokens: number; prefill: unknown[]; finish_reason: string };
    };
    expect(full.generated_text).toBe('Hi');
    expect(full.details.generated_tokens).toBe(1);
    expect(full.details.prefill).toHaveLength(3);
    expect(full.details.finish_reason).toBe('eos_token');
    expect(await p.invokeAsync(messages)).toStrictEqual({
      answer: 'Hi',
      usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
    });
  });

  it('takes the first item when the server answers a list', async () => {
    const item = {
      generated_text: 'from a list',
      details: { generated_tokens: 2, prefill: [{ id: 1, text: 'a', logprob: null }] },
    };
    const server = await track(startTgiTestServer({ rawBody: JSON.stringify([item]) }));
    const p = await tgiProvider(server);
    expect(await p.invoke(messages)).toStrictEqual({
      answer: 'from a list',
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    });
  });

  it('a malformed body is SG_ERR_PROVIDER_RESPONSE, not retried', async () => {
    const server = await track(startTgiTestServer({ rawBody: '{"generated_text": ' }));
    const p = await tgiProvider(server, { maxRetries: 3 });
    const err = await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_RESPONSE');
    expect(err.message).toContain('huggingface://org/model');
    expect(server.requests).toHaveLength(1);
  });

  it('a body without generated_text is SG_ERR_PROVIDER_RESPONSE', async () => {
    const server = await track(startTgiTestServer({ rawBody: '{"details": {}}' }));
    const p = await tgiProvider(server);
    await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_RESPONSE');
  });
});

describe('TGI provider: retries, timeouts, cancellation', () => {
  it('503 then 200 is retried, after the retry-after-ms delay', async () => {
    const server = await track(
      startTgiTestServer({ answer: 'ok', status: [503, 200], headers: { 'retry-after-ms': '120' } }),
    );
    const p = await tgiProvider(server);
    expect(await p.invoke(messages, {}, { responseFormat: 'string' })).toBe('ok');
    expect(server.requests).toHaveLength(2);
    expect(gapMs(server.requests[0], server.requests[1])).toBeGreaterThanOrEqual(120 - 15);
  });

  it('500 forever: SG_ERR_PROVIDER_HTTP with status, attempts and TGI error text', async () => {
    const server = await track(startTgiTestServer({ status: 500 }));
    const p = await tgiProvider(server, { maxRetries: 2 });
    const err = await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_HTTP');
    expect(err.details).toMatchObject({ status: 500, attempts: 3 });
    expect(err.details.providerMessage).toContain('scripted error');
    expect(server.requests).toHaveLength(3);
  });

  it('422 is not retried; a Retry-After over 60 s ends the retries', async () => {
    const bad = await track(startTgiTestServer({ status: [422, 200] }));
    const p = await tgiProvider(bad, { maxRetries: 3 });
    expect((await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_HTTP')).details.status).toBe(422);
    expect(bad.requests).toHaveLength(1);
    const busy = await track(startTgiTestServer({ status: [429, 200], headers: { 'retry-after': '61' } }));
    const q = await tgiProvider(busy, { maxRetries: 3 });
    expect((await rejectsSg(q.invoke(messages), 'SG_ERR_PROVIDER_HTTP')).details).toMatchObject({
      status: 429,
      attempts: 1,
    });
    expect(busy.requests).toHaveLength(1);
  });

  it('timeoutMs: SG_ERR_PROVIDER_TIMEOUT after all retries', async () => {
    const server = await track(startTgiTestServer({ delayMs: 5000 }));
    const p = await tgiProvider(server, { timeoutMs: 80, maxRetries: 1 });
    const err = await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_TIMEOUT');
    expect(err.details.attempts).toBe(2);
    expect(server.requests).toHaveLength(2);
  });

  it('connection refused: SG_ERR_PROVIDER_UNREACHABLE after the retries', async () => {
    const p = await tgiProvider(await closedPortUrl(), { maxRetries: 1 });
    const err = await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_UNREACHABLE');
    expect(err.details.attempts).toBe(2);
  });

  it('abort: SG_ERR_ABORTED with the reason as cause; the server sees the connection closed', async () => {
    const server = await track(startTgiTestServer({ delayMs: 10_000 }));
    const p = await tgiProvider(server, { maxRetries: 3 });
    const controller = new AbortController();
    const reason = abortReason();
    const call = p.invoke(messages, {}, { signal: controller.signal });
    await waitFor(() => server.requests.length === 1, 2);
    controller.abort(reason);
    const err = await rejectsSg(call, 'SG_ERR_ABORTED');
    expect(err.cause).toBe(reason);
    await waitFor(() => server.requests[0].closedAt !== null, 2);
    expect(server.requests[0].clientAborted).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('sends traceparent, tracestate and the headers option on every attempt', async () => {
    const server = await track(startTgiTestServer({ answer: 'ok', status: [502, 200] }));
    const p = await tgiProvider(server, { headers: { 'x-team': 'finance' } });
    await p.invoke(messages, {}, { trace });
    expect(server.requests).toHaveLength(2);
    for (const r of server.requests) {
      expect(r.headers).toMatchObject({
        traceparent: trace.traceparent,
        tracestate: trace.tracestate,
        'x-team': 'finance',
      });
    }
  });
});
