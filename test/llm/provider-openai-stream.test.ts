import { describe, expect, it } from 'vitest';
import { SgError } from '../../src/errors/index.js';
import { startOpenAITestServer } from '../../src/testing/index.js';
import {
  abortReason,
  chatEstimate,
  cleanEnvEachTest,
  closeServersAfterEach,
  collect,
  collectUntilError,
  deltas,
  donePart,
  messages,
  openaiProvider,
  track,
  waitFor,
} from './provider-fixtures.js';

closeServersAfterEach();
cleanEnvEachTest();

const usage = {
  prompt_tokens: 21,
  completion_tokens: 3,
  total_tokens: 24,
  completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  prompt_tokens_details: { cached_tokens: 8 },
  extra_key: 'kept',
};

/** A raw SSE body of chat.completion.chunk events, then [DONE]. */
function sse(chunks: Record<string, unknown>[], done = true): string {
  const events = chunks.map(
    (c) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', ...c })}\n\n`,
  );
  return events.join('') + (done ? 'data: [DONE]\n\n' : '');
}
const delta = (content: string | undefined, finish: string | null = null) => ({
  choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: finish }],
});

describe('OpenAI provider: streaming', () => {
  it('yields the deltas in order, then one done part with the answer, the server usage and the finish reason', async () => {
    const tokens = ['Hello', ' there', ' friend'];
    const server = await track(startOpenAITestServer({ tokens, usage }));
    const p = await openaiProvider(server);
    const parts = await collect(p.stream(messages, { temperature: 0 }));
    expect(deltas(parts)).toEqual(tokens);
    expect(parts.slice(0, 3).every((x) => x.type === 'delta')).toBe(true);
    const done = donePart(parts);
    expect(done).toStrictEqual({ type: 'done', answer: 'Hello there friend', usage, finishReason: 'stop' });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0].body).toEqual({
      model: 'test-model',
      messages,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('merges config over defaultConfig in a stream request', async () => {
    const server = await track(startOpenAITestServer({ tokens: ['a'] }));
    const p = await openaiProvider(server, {}, { defaultConfig: { max_tokens: 9, temperature: 1 } });
    await collect(p.stream(messages, { temperature: 0.2 }));
    expect(server.requests[0].body).toMatchObject({ max_tokens: 9, temperature: 0.2, stream: true });
  });

  it('the default usage of the test server is copied exactly into the done part', async () => {
    const server = await track(startOpenAITestServer({ answer: 'Hello there' }));
    const p = await openaiProvider(server);
    const full = (await p.invoke(messages, {}, { responseFormat: 'full' })) as { usage: unknown };
    const done = donePart(await collect(p.stream(messages)));
    expect(done.usage).toStrictEqual(full.usage);
  });

  it('sends no stream_options with includeStreamUsage: false, and counts the usage locally', async () => {
    const server = await track(startOpenAITestServer({ tokens: ['Hello', ' you'], usage }));
    const p = await openaiProvider(server, { includeStreamUsage: false });
    const done = donePart(await collect(p.stream(messages)));
    expect(server.requests[0].body).not.toHaveProperty('stream_options');
    expect(server.requests[0].body).toMatchObject({ stream: true });
    expect(done.usage).toStrictEqual(chatEstimate(messages, 'Hello you'));
  });

  it('with no usage chunk (usage: null), the done usage is the local formula, estimated', async () => {
    const server = await track(startOpenAITestServer({ tokens: ['Counted', ' here'], usage: null }));
    const p = await openaiProvider(server);
    const done = donePart(await collect(p.stream(messages)));
    expect(server.requests[0].body).toMatchObject({ stream_options: { include_usage: true } });
    expect(done).toStrictEqual({
      type: 'done',
      answer: 'Counted here',
      usage: chatEstimate(messages, 'Counted here'),
      finishReason: 'stop',
    });
  });

  it("passes the server's finish reason", async () => {
    const server = await track(startOpenAITestServer({ tokens: ['a', 'b'], finishReason: 'length' }));
    const p = await openaiProvider(server);
    expect(donePart(await collect(p.stream(messages))).finishReason).toBe('length');
  });

  it('an answer with no text yields no delta and a done part with the empty answer', async () => {
    const server = await track(startOpenAITestServer({ answer: '', usage: null }));
    const p = await openaiProvider(server);
    const parts = await collect(p.stream(messages));
    expect(parts).toStrictEqual([
      { type: 'done', answer: '', usage: chatEstimate(messages, ''), finishReason: 'stop' },
    ]);
  });
});

describe('OpenAI provider: streamed chunks as servers send them', () => {
  it('skips empty and missing contents; finish reason is the last non-null one', async () => {
    const raw = sse([
      { choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] },
      delta('A'),
      delta(''),
      delta(undefined),
      delta('B', 'length'),
      delta(undefined, 'content_filter'),
      delta(undefined, null),
    ]);
    const server = await track(startOpenAITestServer({ rawBody: raw }));
    const p = await openaiProvider(server);
    const parts = await collect(p.stream(messages));
    expect(deltas(parts)).toEqual(['A', 'B']);
    const done = donePart(parts);
    expect(done.answer).toBe('AB');
    expect(done.finishReason).toBe('content_filter');
    expect(done.usage).toStrictEqual(chatEstimate(messages, 'AB'));
  });

  it('takes the usage of the last chunk carrying one, whether its choices are empty, null or missing', async () => {
    const first = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };
    for (const shape of [{ choices: [] }, { choices: null }, {}]) {
      const raw = sse([
        delta('Hi', 'stop'),
        { ...shape, usage: first },
        { choices: [], usage: null },
        { ...shape, usage },
      ]);
      const server = await track(startOpenAITestServer({ rawBody: raw }));
      const p = await openaiProvider(server);
      const done = donePart(await collect(p.stream(messages)));
      expect(done.usage, JSON.stringify(shape)).toStrictEqual(usage);
      expect(done.answer).toBe('Hi');
    }
  });

  it('a usage on the chunk that carries the last delta is taken too', async () => {
    const raw = sse([delta('x'), { ...delta('y', 'stop'), usage }]);
    const server = await track(startOpenAITestServer({ rawBody: raw }));
    const p = await openaiProvider(server);
    const parts = await collect(p.stream(messages));
    expect(deltas(parts)).toEqual(['x', 'y']);
    expect(donePart(parts).usage).toStrictEqual(usage);
  });

  it('an unparsable SSE event is SG_ERR_PROVIDER_RESPONSE with the partial answer', async () => {
    const raw = `${sse([delta('Good')], false)}data: {not json\n\n`;
    const server = await track(startOpenAITestServer({ rawBody: raw }));
    const p = await openaiProvider(server);
    const { parts, error } = await collectUntilError(p.stream(messages));
    expect(deltas(parts)).toEqual(['Good']);
    expect(error).toBeInstanceOf(SgError);
    expect((error as SgError).code).toBe('SG_ERR_PROVIDER_RESPONSE');
    expect((error as SgError).details.partial).toStrictEqual({ answer: 'Good', usage: chatEstimate(messages, 'Good') });
  });
});

describe('OpenAI provider: cut and aborted streams', () => {
  it('a cut stream throws an SgError with details.partial, after one request only (no retry after a delta)', async () => {
    const server = await track(startOpenAITestServer({ tokens: ['One', ' two', ' three'], cutAfterChunks: 2 }));
    const p = await openaiProvider(server, { maxRetries: 3 });
    const { parts, error } = await collectUntilError(p.stream(messages));
    expect(deltas(parts)).toEqual(['One', ' two']);
    expect(parts.some((x) => x.type === 'done')).toBe(false);
    expect(error).toBeInstanceOf(SgError);
    expect(['SG_ERR_PROVIDER_RESPONSE', 'SG_ERR_PROVIDER_UNREACHABLE']).toContain((error as SgError).code);
    expect((error as SgError).details.partial).toStrictEqual({
      answer: 'One two',
      usage: chatEstimate(messages, 'One two'),
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests).toHaveLength(1);
  });

  it('a stream ending without [DONE] after its deltas still yields one done part', async () => {
    const server = await track(startOpenAITestServer({ rawBody: sse([delta('Hi', 'stop')], false) }));
    const p = await openaiProvider(server);
    const parts = await collect(p.stream(messages));
    expect(deltas(parts)).toEqual(['Hi']);
    expect(donePart(parts).answer).toBe('Hi');
  });

  it('abort mid-stream: SG_ERR_ABORTED, cause the reason, partial answer with estimated usage; the connection closes', async () => {
    const server = await track(startOpenAITestServer({ tokens: ['First', ' second', ' third'], chunkDelayMs: 10_000 }));
    const p = await openaiProvider(server);
    const controller = new AbortController();
    const reason = abortReason();
    const parts: string[] = [];
    let caught: unknown;
    const started = Date.now();
    try {
      for await (const part of p.stream(messages, {}, { signal: controller.signal })) {
        if (part.type === 'delta') {
          parts.push(part.text);
          controller.abort(reason);
        }
      }
    } catch (err) {
      caught = err;
    }
    expect(Date.now() - started).toBeLessThan(5000);
    expect(parts).toEqual(['First']);
    expect(caught).toBeInstanceOf(SgError);
    const err = caught as SgError;
    expect(err.code).toBe('SG_ERR_ABORTED');
    expect(err.cause).toBe(reason);
    expect(err.details.partial).toStrictEqual({ answer: 'First', usage: chatEstimate(messages, 'First') });
    const [r] = server.requests;
    await waitFor(() => r.closedAt !== null, 2);
    expect(r.clientAborted).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('abort before the first chunk (delayMs): SG_ERR_ABORTED at once, the connection closes, no retry', async () => {
    const server = await track(startOpenAITestServer({ delayMs: 10_000 }));
    const p = await openaiProvider(server, { maxRetries: 3 });
    const controller = new AbortController();
    const reason = abortReason();
    const it = p.stream(messages, {}, { signal: controller.signal })[Symbol.asyncIterator]();
    const next = it.next();
    await waitFor(() => server.requests.length === 1, 2);
    controller.abort(reason);
    let caught: unknown;
    await next.catch((e: unknown) => {
      caught = e;
    });
    expect((caught as SgError).code).toBe('SG_ERR_ABORTED');
    expect((caught as SgError).cause).toBe(reason);
    await waitFor(() => server.requests[0].closedAt !== null, 2);
    expect(server.requests[0].clientAborted).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('streamIdleTimeoutMs: a stalled stream ends with SG_ERR_PROVIDER_TIMEOUT and the partial answer', async () => {
    const server = await track(
      startOpenAITestServer({ tokens: ['Only', ' this'], chunkDelayMs: Number.POSITIVE_INFINITY }),
    );
    const p = await openaiProvider(server, { streamIdleTimeoutMs: 100, timeoutMs: 10_000, maxRetries: 2 });
    const started = Date.now();
    const { parts, error } = await collectUntilError(p.stream(messages));
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(deltas(parts)).toEqual(['Only']);
    expect((error as SgError).code).toBe('SG_ERR_PROVIDER_TIMEOUT');
    expect((error as SgError).details.partial).toStrictEqual({ answer: 'Only', usage: chatEstimate(messages, 'Only') });
    await waitFor(() => server.requests[0].closedAt !== null, 2);
    expect(server.requests[0].clientAborted).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('the idle limit runs between chunks only: slow but steady chunks pass', async () => {
    const server = await track(startOpenAITestServer({ tokens: ['a', 'b', 'c', 'd'], chunkDelayMs: 60, usage: null }));
    const p = await openaiProvider(server, { streamIdleTimeoutMs: 200, timeoutMs: 200 });
    const parts = await collect(p.stream(messages));
    expect(donePart(parts).answer).toBe('abcd');
  });
});
