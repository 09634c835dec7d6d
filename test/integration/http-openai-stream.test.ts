// The OpenAI-compatible front, streamed (http.md, last section: "Streamed response"), with the official
// openai SDK and with the raw SSE text.
import { APIError } from 'openai';
import { describe, expect, test } from 'vitest';
import { until } from './http-helpers.js';
import {
  ANSWER,
  type Chunk,
  client,
  closeAfterEach,
  completion,
  embeddedGraph,
  MESSAGES,
  sseData,
  start,
  stepGraph,
  USAGE,
  upstream,
  upstreamGraph,
} from './http-openai-helpers.js';

closeAfterEach();

/** Checks the order of a stream's chunks: role, contents, closing; returns the contents. */
function contentsOf(chunks: Chunk[], finish = 'stop'): string[] {
  const [role, ...rest] = chunks;
  expect(role?.choices).toEqual([
    { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
  ]);
  const closing = rest.pop();
  expect(closing?.choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: finish }]);
  return rest.map((c) => {
    expect(c.choices).toHaveLength(1);
    expect(c.choices[0]?.finish_reason).toBeNull();
    expect(Object.keys(c.choices[0]?.delta ?? {})).toEqual(['content']);
    return c.choices[0]?.delta.content as string;
  });
}

describe('a streamed completion', () => {
  test('SDK, include_usage: role chunk, content chunks, closing chunk, usage chunk; every earlier chunk usage null', async () => {
    const server = await upstream({ tokens: ['Hello', ' there', ' friend'] });
    const app = await start(upstreamGraph(server, true));
    const stream = await client(app).chat.completions.create(
      { model: 'servegraph', messages: MESSAGES, stream: true, stream_options: { include_usage: true } },
      { headers: { 'X-Request-Id': 'stream-1' } },
    );
    const chunks: Chunk[] = [];
    for await (const c of stream) chunks.push(c as unknown as Chunk);
    const usageChunk = chunks.pop();
    expect(usageChunk).toEqual({
      id: 'chatcmpl-stream-1',
      object: 'chat.completion.chunk',
      created: chunks[0]?.created,
      model: 'servegraph',
      choices: [],
      usage: USAGE,
    });
    expect(contentsOf(chunks)).toEqual(['Hello', ' there', ' friend']);
    for (const c of chunks) {
      expect(c).toMatchObject({ id: 'chatcmpl-stream-1', object: 'chat.completion.chunk', model: 'servegraph' });
      expect(c.created).toBe(chunks[0]?.created);
      expect(c.usage).toBeNull();
    }
  });

  test('the raw SSE: data lines only, no event names, ending with data: [DONE]', async () => {
    const server = await upstream({ tokens: ['Hello', ' there', ' friend'] });
    const app = await start(upstreamGraph(server, true));
    const res = await fetch(`${app.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'raw-1' },
      body: JSON.stringify({
        model: 'servegraph',
        messages: MESSAGES,
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(res.headers.get('x-request-id')).toBe('raw-1');
    const text = await res.text();
    for (const line of text.split('\n')) expect(line === '' || line.startsWith('data: ')).toBe(true);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const data = sseData(text);
    expect(data.pop()).toBe('[DONE]');
    const chunks = data as Chunk[];
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: USAGE });
    expect(contentsOf(chunks.slice(0, -1)).join('')).toBe(ANSWER);
    expect(chunks.every((c) => c.id === 'chatcmpl-raw-1')).toBe(true);
  });

  test('without include_usage: no usage chunk and no usage key on any chunk', async () => {
    const server = await upstream({ tokens: ['Hello', ' there', ' friend'] });
    const app = await start(upstreamGraph(server, true));
    const res = await completion(app, { model: 'servegraph', messages: MESSAGES, stream: true });
    const data = sseData(res.text);
    expect(data.pop()).toBe('[DONE]');
    const chunks = data as Chunk[];
    for (const c of chunks) expect(Object.hasOwn(c, 'usage')).toBe(false);
    expect(contentsOf(chunks)).toEqual(['Hello', ' there', ' friend']);
    // include_usage: false is the same
    const off = await completion(app, {
      model: 'servegraph',
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: false },
    });
    expect((sseData(off.text).slice(0, -1) as Chunk[]).some((c) => Object.hasOwn(c, 'usage'))).toBe(false);
  });

  test('an embedded://demo streaming LLModel: the SDK reads its deltas and usage', async () => {
    const app = await start(embeddedGraph(true));
    const stream = await client(app).chat.completions.create({
      model: 'servegraph',
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    let finish: string | null | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      if (c.usage) usage = c.usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(['stop', 'length']).toContain(finish);
    expect(usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) });
  });
});

describe('graphs whose reply does not stream, and chunk text', () => {
  test('a plain string reply: one content chunk with the whole text; no usage chunk (usage unknown)', async () => {
    const app = await start(stepGraph(() => 'the whole answer'));
    const res = await completion(app, {
      model: 'servegraph',
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
    });
    const data = sseData(res.text);
    expect(data.pop()).toBe('[DONE]');
    const chunks = data as Chunk[];
    expect(contentsOf(chunks)).toEqual(['the whole answer']);
    for (const c of chunks) expect(c.usage).toBeNull();
  });

  test('a reply {answer, usage, finishReason}: one content chunk, its finish reason, its usage chunk', async () => {
    const U = { prompt_tokens: 4, completion_tokens: 5, total_tokens: 9 };
    const app = await start(stepGraph(() => ({ answer: 'collected', usage: U, finishReason: 'length' })));
    const stream = await client(app).chat.completions.create({
      model: 'servegraph',
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: Chunk[] = [];
    for await (const c of stream) chunks.push(c as unknown as Chunk);
    expect(chunks.pop()).toMatchObject({ choices: [], usage: U });
    expect(contentsOf(chunks, 'length')).toEqual(['collected']);
  });

  test('a reply {output: {answer, usage}}: the first own property holding an answer', async () => {
    const U = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };
    const app = await start(stepGraph(() => ({ n: 1, output: { answer: 'inner', usage: U } })));
    const res = await completion(app, {
      model: 'servegraph',
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
    });
    const data = sseData(res.text).slice(0, -1) as Chunk[];
    expect(data.pop()).toMatchObject({ choices: [], usage: U });
    expect(contentsOf(data)).toEqual(['inner']);
  });

  test('openai.answerPath applies to a reply sent on a stream too', async () => {
    const app = await start(
      stepGraph(() => ({ meta: 'x', result: { text: 'deep text' } })),
      { openai: { answerPath: 'result.text' } },
    );
    const res = await completion(app, { model: 'servegraph', messages: MESSAGES, stream: true });
    const data = sseData(res.text).slice(0, -1) as Chunk[];
    expect(contentsOf(data)).toEqual(['deep text']);
  });

  test('streamed chunks: a string is its text, {answer} its answer, anything else its JSON; done gives usage and reason', async () => {
    const U = { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 };
    const app = await start(
      stepGraph(async function* () {
        yield 'a';
        yield { answer: 'b', usage: { ignored: true } };
        yield { x: 1 };
        yield 7;
        return { usage: U, finishReason: 'length' };
      }),
    );
    const stream = await client(app).chat.completions.create({
      model: 'servegraph',
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: Chunk[] = [];
    for await (const c of stream) chunks.push(c as unknown as Chunk);
    expect(chunks.pop()).toMatchObject({ choices: [], usage: U });
    expect(contentsOf(chunks, 'length')).toEqual(['a', 'b', '{"x":1}', '7']);
  });

  test('an unknown finish reason in the done payload is sent as stop', async () => {
    const app = await start(
      stepGraph(async function* () {
        yield 'x';
        return { finishReason: 'eos_token' };
      }),
    );
    const res = await completion(app, { model: 'servegraph', messages: MESSAGES, stream: true });
    expect(contentsOf(sseData(res.text).slice(0, -1) as Chunk[], 'stop')).toEqual(['x']);
  });
});

describe('failures and cancellation', () => {
  test('a failure before the first chunk is an ordinary error response', async () => {
    const app = await start(embeddedGraph(true));
    const res = await completion(app, {
      model: 'servegraph',
      messages: [{ role: 'user', content: 'please [[sg:fail]]' }],
      stream: true,
    });
    expect(res.status).toBe(502);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-should-retry']).toBe('false');
    expect((res.json() as { error: { type: string } }).error.type).toBe('server_error');
  });

  test('a failure after the first chunk: one data: {"error":…} line, then the end, without [DONE]', async () => {
    const server = await upstream({ tokens: ['a', 'b', 'c', 'd'], cutAfterChunks: 2 });
    const app = await start(upstreamGraph(server, true));
    const res = await completion(app, { model: 'servegraph', messages: MESSAGES, stream: true });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('[DONE]');
    const data = sseData(res.text);
    const last = data.pop() as { error: Record<string, unknown> };
    expect(Object.keys(last)).toEqual(['error']);
    expect(last.error).toMatchObject({ type: 'server_error', code: expect.stringMatching(/^SG_ERR_/) });
    // before it: the role chunk and the two chunks the provider sent, no closing chunk
    const chunks = data as Chunk[];
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.slice(1).map((c) => c.choices[0]?.delta)).toEqual([{ content: 'a' }, { content: 'b' }]);
  });

  test('the SDK throws an APIError for the in-band error', async () => {
    const server = await upstream({ tokens: ['a', 'b', 'c', 'd'], cutAfterChunks: 2 });
    const app = await start(upstreamGraph(server, true));
    const stream = await client(app).chat.completions.create({ model: 'servegraph', messages: MESSAGES, stream: true });
    let text = '';
    const err = await (async () => {
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(APIError);
    expect(text).toBe('ab');
  });

  test("breaking out of the SDK's loop cancels the graph's stream and its provider call", async () => {
    const server = await upstream({ tokens: ['one', ' two', ' three', ' four', ' five', ' six'], chunkDelayMs: 200 });
    const app = await start(upstreamGraph(server, true));
    const stream = await client(app).chat.completions.create({ model: 'servegraph', messages: MESSAGES, stream: true });
    const seen: string[] = [];
    for await (const c of stream) {
      const t = c.choices[0]?.delta?.content;
      if (t) seen.push(t);
      if (seen.length === 1) break;
    }
    expect(seen).toEqual(['one']);
    await until(() => server.requests[0]?.clientAborted === true, 3);
    expect(server.requests[0]?.closedAt).not.toBeNull();
  });
});
