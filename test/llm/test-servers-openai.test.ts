import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { countChatTokens, countTokens } from '../../src/llm/usage.js';
import { startOpenAITestServer, type TestServer } from '../../src/testing/index.js';
import {
  closeServersAfterEach,
  jsonOf,
  postJson,
  readEvents,
  sseData,
  track,
  waitFor,
} from './test-server-fixtures.js';

closeServersAfterEach();

const messages = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Say hello' },
];

type ErrorReply = { error: { message: string; type: string; param: null; code: string | null } };

function client(server: TestServer): OpenAI {
  return new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 });
}

function expectedUsage(answer: string) {
  const prompt = countChatTokens(messages);
  const completion = countTokens(answer);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    completion_tokens_details: {
      accepted_prediction_tokens: 0,
      audio_tokens: 0,
      reasoning_tokens: 0,
      rejected_prediction_tokens: 0,
    },
    prompt_tokens_details: { audio_tokens: 0, cached_tokens: 0 },
  };
}

/** The parsed chunks of a raw SSE body, and whether it ended with [DONE]. */
function chunks(text: string): { parsed: OpenAI.ChatCompletionChunk[]; done: boolean } {
  const data = sseData(text);
  const done = data.at(-1) === '[DONE]';
  return { parsed: (done ? data.slice(0, -1) : data).map((d) => JSON.parse(d)), done };
}

describe('OpenAI test server: JSON replies', () => {
  it('answers a chat completion with the default answer and the exact usage of llm.md section 4', async () => {
    const server = await track(startOpenAITestServer());
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const completion = await client(server).chat.completions.create({ model: 'gpt-test', messages });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-test');
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]).toMatchObject({
      index: 0,
      finish_reason: 'stop',
      message: { role: 'assistant', content: 'Hello from the test server.', refusal: null },
    });
    expect(completion.usage).toEqual(expectedUsage('Hello from the test server.'));
  });

  it('records each request with its method, path, headers and parsed body', async () => {
    const server = await track(startOpenAITestServer({ answer: 'ok' }));
    await client(server).chat.completions.create({ model: 'm', messages, temperature: 0.5 });
    expect(server.requests).toHaveLength(1);
    const [r] = server.requests;
    expect(r).toMatchObject({ method: 'POST', path: '/v1/chat/completions', clientAborted: false });
    expect(r.headers.authorization).toBe('Bearer test');
    expect(r.body).toEqual({ model: 'm', messages, temperature: 0.5 });
    await waitFor(() => r.closedAt !== null);
    expect(r.closedAt).toBeGreaterThanOrEqual(r.receivedAt);
  });

  it('sends a given usage object exactly, and none with usage: null', async () => {
    const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, extra: { deep: [1, 2] } };
    const server = await track(startOpenAITestServer({ usage }));
    const completion = await client(server).chat.completions.create({ model: 'm', messages });
    expect(completion.usage).toEqual(usage);
    const none = await track(startOpenAITestServer({ usage: null }));
    const res = await postJson(`${none.url}/chat/completions`, { model: 'm', messages });
    const body = await jsonOf<OpenAI.ChatCompletion>(res);
    expect(body.choices[0].message.content).toBe('Hello from the test server.');
    expect('usage' in body).toBe(false);
  });

  it('derives the answer from tokens alone', async () => {
    const server = await track(startOpenAITestServer({ tokens: ['Hel', 'lo', '!'] }));
    const completion = await client(server).chat.completions.create({ model: 'm', messages });
    expect(completion.choices[0].message.content).toBe('Hello!');
    expect(completion.usage?.completion_tokens).toBe(countTokens('Hello!'));
  });

  it('scripts statuses, the last repeating, with extra headers and OpenAI error bodies', async () => {
    const server = await track(startOpenAITestServer({ status: [429, 500, 200], headers: { 'retry-after': '1' } }));
    const oai = client(server);
    const first = await oai.chat.completions.create({ model: 'm', messages }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(OpenAI.RateLimitError);
    const rate = first as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rate.status).toBe(429);
    expect(rate.headers.get('retry-after')).toBe('1');
    expect(rate.error).toMatchObject({ type: 'rate_limit_exceeded', code: 'rate_limit_exceeded', param: null });
    const second = await postJson(`${server.url}/chat/completions`, { model: 'm', messages });
    expect(second.status).toBe(500);
    const body = await jsonOf<ErrorReply>(second);
    expect(body.error).toMatchObject({ type: 'server_error', param: null, code: null });
    expect(typeof body.error.message).toBe('string');
    for (let i = 0; i < 2; i++) {
      const ok = await oai.chat.completions.create({ model: 'm', messages });
      expect(ok.choices[0].message.content).toBe('Hello from the test server.');
    }
    expect(server.requests).toHaveLength(4);
  });

  it('sends rawBody as the body, with a JSON content type, for a JSON or a stream request', async () => {
    const server = await track(startOpenAITestServer({ rawBody: '{"choices": [' }));
    const res = await postJson(`${server.url}/chat/completions`, { model: 'm', messages });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe('{"choices": [');
    await expect(client(server).chat.completions.create({ model: 'm', messages })).rejects.toThrow();
    const sse = await track(startOpenAITestServer({ rawBody: 'data: {not json}\n\n' }));
    const stream = await postJson(`${sse.url}/chat/completions`, { model: 'm', messages, stream: true });
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    expect(await stream.text()).toBe('data: {not json}\n\n');
  });

  it('applies reply() overrides per request, given the recorded request and its index', async () => {
    const seen: [unknown, number][] = [];
    const server = await track(
      startOpenAITestServer({
        answer: 'base',
        reply: (request, index) => {
          seen.push([(request.body as { model: string }).model, index]);
          return index === 1 ? { answer: 'second', usage: null } : undefined;
        },
      }),
    );
    const oai = client(server);
    const a = await oai.chat.completions.create({ model: 'a', messages });
    const b = await oai.chat.completions.create({ model: 'b', messages });
    expect(a.choices[0].message.content).toBe('base');
    expect(b.choices[0].message.content).toBe('second');
    expect(b.usage).toBeUndefined();
    expect(seen).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
  });

  it('answers 500 with a clear message when reply() returns nonsense', async () => {
    const server = await track(startOpenAITestServer({ reply: () => ({ delayMs: -1 }) }));
    const res = await postJson(`${server.url}/chat/completions`, { model: 'm', messages });
    expect(res.status).toBe(500);
    expect((await jsonOf<ErrorReply>(res)).error.message).toMatch(/delayMs must be a number >= 0/);
  });

  it('answers 404 on other routes, 400 without messages, and lists one model', async () => {
    const server = await track(startOpenAITestServer());
    const missing = await postJson(`${server.url}/completions`, { model: 'm', prompt: 'x' });
    expect(missing.status).toBe(404);
    expect((await jsonOf<ErrorReply>(missing)).error).toMatchObject({ type: 'invalid_request_error', param: null });
    expect((await fetch(`${server.url}/chat/completions`)).status).toBe(404);
    const bad = await postJson(`${server.url}/chat/completions`, { model: 'm' });
    expect(bad.status).toBe(400);
    expect((await jsonOf<ErrorReply>(bad)).error.type).toBe('invalid_request_error');
    const models = await client(server).models.list();
    expect(models.data.map((m) => m.id)).toEqual(['test-model']);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/completions',
      'GET /v1/chat/completions',
      'POST /v1/chat/completions',
      'GET /v1/models',
    ]);
    expect(server.requests[0].body).toEqual({ model: 'm', prompt: 'x' });
  });

  it('waits delayMs before answering', async () => {
    const server = await track(startOpenAITestServer({ delayMs: 300 }));
    const t0 = Date.now();
    await client(server).chat.completions.create({ model: 'm', messages });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('rejects nonsensical options with a TypeError', async () => {
    await expect(startOpenAITestServer({ delayMs: -5 })).rejects.toThrow(TypeError);
    await expect(startOpenAITestServer({ status: 99 })).rejects.toThrow(/status/);
    await expect(startOpenAITestServer({ status: [] })).rejects.toThrow(/status/);
    await expect(startOpenAITestServer({ cutAfterChunks: 1.5 })).rejects.toThrow(/cutAfterChunks/);
    await expect(startOpenAITestServer({ answer: 'ab', tokens: ['a'] })).rejects.toThrow(/disagree/);
    await expect(startOpenAITestServer({ anwser: 'x' } as never)).rejects.toThrow(/unknown option "anwser"/);
    await expect(startOpenAITestServer({ headers: { 'retry-after': 1 } } as never)).rejects.toThrow(/headers/);
  });
});

describe('OpenAI test server: streams', () => {
  it('streams one chunk per token, concatenating to the answer, then the usage chunk and [DONE]', async () => {
    const server = await track(startOpenAITestServer({ answer: 'Hello from the test' }));
    const res = await postJson(`${server.url}/chat/completions`, {
      model: 'm',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const { parsed, done } = chunks(await res.text());
    expect(done).toBe(true);
    const contents = parsed.filter((c) => c.choices.length > 0).map((c) => c.choices[0].delta.content ?? '');
    expect(contents.filter((c) => c !== '')).toEqual(['Hello', ' from', ' the', ' test']);
    expect(parsed[0].choices[0].delta.role).toBe('assistant');
    for (const c of parsed) expect(c).toMatchObject({ object: 'chat.completion.chunk', model: 'm' });
    const usageChunk = parsed.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual(expectedUsage('Hello from the test'));
    expect(parsed.at(-2)!.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
  });

  it('works with the openai client, deltas and usage included', async () => {
    const server = await track(startOpenAITestServer({ tokens: ['Hel', 'lo', ' there'] }));
    const stream = await client(server).chat.completions.create({
      model: 'm',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello there');
    expect(finish).toBe('stop');
    expect(usage).toEqual(expectedUsage('Hello there'));
    expect((server.requests[0].body as Record<string, unknown>).stream_options).toEqual({ include_usage: true });
  });

  it('sends no usage chunk without include_usage, nor with usage: null', async () => {
    const server = await track(startOpenAITestServer());
    const plain = chunks(
      await (await postJson(`${server.url}/chat/completions`, { model: 'm', messages, stream: true })).text(),
    );
    expect(plain.done).toBe(true);
    expect(plain.parsed.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true);
    const none = await track(startOpenAITestServer({ usage: null }));
    const body = { model: 'm', messages, stream: true, stream_options: { include_usage: true } };
    const nulled = chunks(await (await postJson(`${none.url}/chat/completions`, body)).text());
    expect(nulled.parsed.every((c) => c.usage === null && c.choices.length === 1)).toBe(true);
  });

  it('cuts the connection after cutAfterChunks chunks, with no final event', async () => {
    const server = await track(startOpenAITestServer({ answer: 'one two three four', cutAfterChunks: 2 }));
    const stream = await client(server).chat.completions.create({ model: 'm', messages, stream: true });
    let text = '';
    const consume = async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    };
    await expect(consume()).rejects.toThrow();
    expect(text).toBe('one two');
    const res = await postJson(`${server.url}/chat/completions`, { model: 'm', messages, stream: true });
    await expect(res.text()).rejects.toThrow();
    await waitFor(() => server.requests.every((r) => r.closedAt !== null));
    expect(server.requests.map((r) => r.clientAborted)).toEqual([false, false]);
  });

  it('stalls with chunkDelayMs: Infinity and records the client abort', async () => {
    const server = await track(startOpenAITestServer({ chunkDelayMs: Number.POSITIVE_INFINITY }));
    const stream = await client(server).chat.completions.create({ model: 'm', messages, stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value?.choices[0].delta.content).toBe('Hello');
    expect(server.requests[0].closedAt).toBeNull();
    const abortedAt = Date.now();
    stream.controller.abort();
    await waitFor(() => server.requests[0].closedAt !== null, 2);
    expect(server.requests[0].clientAborted).toBe(true);
    expect(server.requests[0].closedAt! - abortedAt).toBeLessThan(2000);
  });

  it('records an abort during delayMs, before any header', async () => {
    const server = await track(startOpenAITestServer({ delayMs: Number.POSITIVE_INFINITY }));
    const controller = new AbortController();
    const pending = postJson(`${server.url}/chat/completions`, { model: 'm', messages }, { signal: controller.signal });
    await waitFor(() => server.requests.length === 1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await waitFor(() => server.requests[0].closedAt !== null, 2);
    expect(server.requests[0].clientAborted).toBe(true);
  });

  it('spaces chunks by chunkDelayMs', async () => {
    const server = await track(startOpenAITestServer({ tokens: ['a', 'b', 'c'], chunkDelayMs: 100 }));
    const t0 = Date.now();
    const res = await postJson(`${server.url}/chat/completions`, { model: 'm', messages, stream: true });
    expect(chunks(await res.text()).done).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('closes while a stream is stalled, ending the client stream', async () => {
    const server = await startOpenAITestServer({ chunkDelayMs: Number.POSITIVE_INFINITY });
    const res = await postJson(`${server.url}/chat/completions`, { model: 'm', messages, stream: true });
    const { events, reader } = await readEvents(res, 1);
    expect(events).toHaveLength(1);
    await server.close();
    let end: string;
    do
      end = await reader.read().then(
        (r) => (r.done ? 'done' : 'value'),
        () => 'error',
      );
    while (end === 'value');
    expect(end).toBe('error');
    expect(server.requests[0].closedAt).not.toBeNull();
    expect(server.requests[0].clientAborted).toBe(false);
    await server.close(); // a second close() resolves too
  });
});
