import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { startOpenAITestServer } from '../../src/testing/index.js';
import {
  abortReason,
  cleanEnvEachTest,
  closedPortUrl,
  closeServersAfterEach,
  collect,
  collectUntilError,
  deltas,
  gapMs,
  messages,
  openaiProvider,
  rejectsSg,
  sleep,
  trace,
  track,
  waitFor,
} from './provider-fixtures.js';

closeServersAfterEach();
cleanEnvEachTest();

/** Timer slack allowed below a delay (setTimeout may fire a little early against Date.now()). */
const SLACK = 15;

describe('OpenAI provider: retries', () => {
  it('retries a 429 after the retry-after-ms delay, then answers', async () => {
    const server = await track(
      startOpenAITestServer({ answer: 'ok', status: [429, 200], headers: { 'retry-after-ms': '150' } }),
    );
    const p = await openaiProvider(server);
    expect(await p.invoke(messages, {}, { responseFormat: 'string' })).toBe('ok');
    expect(server.requests).toHaveLength(2);
    expect(gapMs(server.requests[0], server.requests[1])).toBeGreaterThanOrEqual(150 - SLACK);
  });

  it('honours Retry-After in seconds', async () => {
    const server = await track(
      startOpenAITestServer({ answer: 'ok', status: [429, 200], headers: { 'retry-after': '1' } }),
    );
    const p = await openaiProvider(server);
    expect(await p.invoke(messages, {}, { responseFormat: 'string' })).toBe('ok');
    expect(server.requests).toHaveLength(2);
    expect(gapMs(server.requests[0], server.requests[1])).toBeGreaterThanOrEqual(1000 - SLACK);
  });

  it('backs off by retryBaseDelayMs * 2^(n-1) times a factor in [0.75, 1]', async () => {
    const server = await track(startOpenAITestServer({ answer: 'ok', status: [500, 502, 200] }));
    const p = await openaiProvider(server, { retryBaseDelayMs: 100, retryMaxDelayMs: 8000 });
    expect(await p.invoke(messages, {}, { responseFormat: 'string' })).toBe('ok');
    const [a, b, c] = server.requests;
    expect(server.requests).toHaveLength(3);
    expect(gapMs(a, b)).toBeGreaterThanOrEqual(75 - SLACK);
    expect(gapMs(b, c)).toBeGreaterThanOrEqual(150 - SLACK);
  });

  it('retries each of 408, 409, 429, 500, 502, 503 and 504', async () => {
    for (const status of [408, 409, 429, 500, 502, 503, 504]) {
      const server = await track(startOpenAITestServer({ answer: 'ok', status: [status, 200] }));
      const p = await openaiProvider(server);
      expect(await p.invoke(messages, {}, { responseFormat: 'string' }), String(status)).toBe('ok');
      expect(server.requests, String(status)).toHaveLength(2);
    }
  });

  it('500 forever: SG_ERR_PROVIDER_HTTP with status 500 and attempts = maxRetries + 1', async () => {
    const server = await track(startOpenAITestServer({ status: 500 }));
    const p = await openaiProvider(server, { maxRetries: 3 });
    const err = await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_HTTP');
    expect(err.details.status).toBe(500);
    expect(err.details.attempts).toBe(4);
    expect(err.details.providerMessage).toContain('scripted error');
    expect(String(err.details.providerMessage).length).toBeLessThanOrEqual(500);
    expect(err.message).toContain('openai://test-model');
    expect(server.requests).toHaveLength(4);
  });

  it('never puts the key in error messages or details', async () => {
    for (const status of [401, 500]) {
      const server = await track(startOpenAITestServer({ status }));
      const p = await openaiProvider(server, { apiKey: 'sk-secret-4242', maxRetries: 0 });
      const err = await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_HTTP');
      expect(server.requests[0].headers.authorization).toBe('Bearer sk-secret-4242');
      expect(err.message).not.toContain('sk-secret-4242');
      expect(JSON.stringify(err.details)).not.toContain('sk-secret-4242');
    }
  });

  it('maxRetries: 0 makes one attempt', async () => {
    const server = await track(startOpenAITestServer({ status: 503 }));
    const p = await openaiProvider(server, { maxRetries: 0 });
    const err = await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_HTTP');
    expect(err.details).toMatchObject({ status: 503, attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it('400 is not retried', async () => {
    const server = await track(startOpenAITestServer({ status: [400, 200] }));
    const p = await openaiProvider(server, { maxRetries: 3 });
    const err = await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_HTTP');
    expect(err.details).toMatchObject({ status: 400, attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it('401, 404 and 422 are not retried either', async () => {
    for (const status of [401, 404, 422]) {
      const server = await track(startOpenAITestServer({ status: [status, 200] }));
      const p = await openaiProvider(server, { maxRetries: 3 });
      const err = await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_HTTP');
      expect(err.details.status).toBe(status);
      expect(server.requests, String(status)).toHaveLength(1);
    }
  });

  it('a Retry-After over 60 s ends the retries at once', async () => {
    const server = await track(startOpenAITestServer({ status: [429, 200], headers: { 'retry-after': '120' } }));
    const p = await openaiProvider(server, { maxRetries: 3 });
    const started = Date.now();
    const err = await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_HTTP');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err.details).toMatchObject({ status: 429, attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it('a stream is retried while no chunk has arrived', async () => {
    const server = await track(startOpenAITestServer({ tokens: ['a', 'b'], status: [503, 200] }));
    const p = await openaiProvider(server);
    const parts = await collect(p.stream(messages));
    expect(deltas(parts)).toEqual(['a', 'b']);
    expect(server.requests).toHaveLength(2);
  });

  it('abort during a retry wait: SG_ERR_ABORTED with the reason as cause, no further request', async () => {
    const server = await track(startOpenAITestServer({ status: [503, 200], headers: { 'retry-after-ms': '10000' } }));
    const p = await openaiProvider(server, { maxRetries: 3 });
    const controller = new AbortController();
    const reason = abortReason();
    const started = Date.now();
    const call = p.invoke(messages, {}, { signal: controller.signal });
    await waitFor(() => server.requests.length === 1 && server.requests[0].closedAt !== null, 2);
    await sleep(20);
    controller.abort(reason);
    const err = await rejectsSg(call, 'SG_ERR_ABORTED');
    expect(err.cause).toBe(reason);
    expect(Date.now() - started).toBeLessThan(5000);
    await sleep(30);
    expect(server.requests).toHaveLength(1);
  });

  it('an already aborted signal sends nothing', async () => {
    const server = await track(startOpenAITestServer());
    const p = await openaiProvider(server);
    const reason = abortReason();
    const err = await rejectsSg(p.invoke(messages, {}, { signal: AbortSignal.abort(reason) }), 'SG_ERR_ABORTED');
    expect(err.cause).toBe(reason);
    await sleep(30);
    expect(server.requests).toHaveLength(0);
  });
});

describe('OpenAI provider: timeouts, cancellation, unreachable servers', () => {
  it('timeoutMs: SG_ERR_PROVIDER_TIMEOUT after all retries, each attempt cut by the client', async () => {
    const server = await track(startOpenAITestServer({ delayMs: 5000 }));
    const p = await openaiProvider(server, { timeoutMs: 100, maxRetries: 1 });
    const started = Date.now();
    const err = await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_TIMEOUT');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(200 - SLACK);
    expect(took).toBeLessThan(4000);
    expect(err.details.attempts).toBe(2);
    expect(server.requests).toHaveLength(2);
    await waitFor(() => server.requests.every((r) => r.closedAt !== null), 2);
    expect(server.requests.map((r) => r.clientAborted)).toEqual([true, true]);
  });

  it('timeoutMs applies to the first chunk of a stream', async () => {
    const server = await track(startOpenAITestServer({ delayMs: 5000 }));
    const p = await openaiProvider(server, { timeoutMs: 100, maxRetries: 0 });
    const { error } = await collectUntilError(p.stream(messages));
    expect((error as { code?: string }).code).toBe('SG_ERR_PROVIDER_TIMEOUT');
    expect(server.requests).toHaveLength(1);
  });

  it('a slow first attempt times out and the retry answers', async () => {
    const server = await track(
      startOpenAITestServer({ answer: 'late ok', reply: (_r, i) => (i === 0 ? { delayMs: 5000 } : {}) }),
    );
    const p = await openaiProvider(server, { timeoutMs: 150, maxRetries: 1 });
    expect(await p.invoke(messages, {}, { responseFormat: 'string' })).toBe('late ok');
    expect(server.requests).toHaveLength(2);
  });

  it('abort while waiting for the answer: SG_ERR_ABORTED with the reason as cause; the connection closes', async () => {
    const server = await track(startOpenAITestServer({ delayMs: 10_000 }));
    const p = await openaiProvider(server);
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

  // llm.md section 3.7: invoke rejects SG_ERR_ABORTED with details.partial = the {answer, usage} so far
  it('an aborted invoke carries details.partial: no answer yet, the prompt counted locally', async () => {
    const server = await track(startOpenAITestServer({ delayMs: 10_000 }));
    const p = await openaiProvider(server);
    const controller = new AbortController();
    const call = p.invoke(messages, {}, { signal: controller.signal });
    await waitFor(() => server.requests.length === 1, 2);
    controller.abort(abortReason());
    const err = await rejectsSg(call, 'SG_ERR_ABORTED');
    expect(err.details.partial).toMatchObject({ answer: '', usage: { completion_tokens: 0, estimated: true } });
  });

  it('connection refused: SG_ERR_PROVIDER_UNREACHABLE after the retries', async () => {
    const url = await closedPortUrl('/v1');
    const p = await openaiProvider(url, { maxRetries: 2 });
    const err = await rejectsSg(p.invoke(messages), 'SG_ERR_PROVIDER_UNREACHABLE');
    expect(err.details.attempts).toBe(3);
    expect(err.message).toContain('openai://test-model');
    const { error } = await collectUntilError(p.stream(messages));
    expect((error as { code?: string }).code).toBe('SG_ERR_PROVIDER_UNREACHABLE');
  });
});

describe('OpenAI provider: trace context and extra headers', () => {
  it('sends traceparent and tracestate on every attempt, retries included', async () => {
    const server = await track(startOpenAITestServer({ answer: 'ok', status: [500, 503, 200] }));
    const p = await openaiProvider(server);
    await p.invoke(messages, {}, { trace });
    expect(server.requests).toHaveLength(3);
    for (const r of server.requests) {
      expect(r.headers.traceparent).toBe(trace.traceparent);
      expect(r.headers.tracestate).toBe(trace.tracestate);
    }
  });

  it('sends the trace context on stream requests too, and no tracestate when absent', async () => {
    const server = await track(startOpenAITestServer({ tokens: ['a'], status: [502, 200] }));
    const p = await openaiProvider(server);
    await collect(p.stream(messages, {}, { trace: { traceparent: trace.traceparent } }));
    expect(server.requests).toHaveLength(2);
    for (const r of server.requests) {
      expect(r.headers.traceparent).toBe(trace.traceparent);
      expect(r.headers).not.toHaveProperty('tracestate');
    }
  });

  it('sends no trace headers without options.trace', async () => {
    const server = await track(startOpenAITestServer());
    const p = await openaiProvider(server);
    await p.invoke(messages);
    expect(server.requests[0].headers).not.toHaveProperty('traceparent');
  });

  it('sends the headers option on every attempt', async () => {
    const server = await track(startOpenAITestServer({ answer: 'ok', status: [500, 200] }));
    const p = await openaiProvider(server, { headers: { 'x-team': 'finance', 'x-priority': 'low' } });
    await p.invoke(messages, {}, { trace });
    await collect(p.stream(messages));
    expect(server.requests).toHaveLength(3);
    for (const r of server.requests) expect(r.headers).toMatchObject({ 'x-team': 'finance', 'x-priority': 'low' });
  });
});

describe('OpenAI provider: more retry and clean-up cases', () => {
  it('a Retry-After date in the past retries at once; one over 60 s ahead ends the retries', async () => {
    const past = await track(
      startOpenAITestServer({
        answer: 'ok',
        status: [503, 200],
        headers: { 'retry-after': new Date(Date.now() - 5000).toUTCString() },
      }),
    );
    const p = await openaiProvider(past, { retryBaseDelayMs: 5000 });
    expect(await p.invoke(messages, {}, { responseFormat: 'string' })).toBe('ok');
    expect(past.requests).toHaveLength(2);
    const future = await track(
      startOpenAITestServer({
        status: [503, 200],
        headers: { 'retry-after': new Date(Date.now() + 120_000).toUTCString() },
      }),
    );
    const q = await openaiProvider(future, { maxRetries: 3 });
    expect((await rejectsSg(q.invoke(messages), 'SG_ERR_PROVIDER_HTTP')).details.attempts).toBe(1);
    expect(future.requests).toHaveLength(1);
  });

  it('a stream answered 400 is SG_ERR_PROVIDER_HTTP after one request', async () => {
    const server = await track(startOpenAITestServer({ status: [400, 200] }));
    const p = await openaiProvider(server, { maxRetries: 3 });
    const { error } = await collectUntilError(p.stream(messages));
    expect((error as { code?: string }).code).toBe('SG_ERR_PROVIDER_HTTP');
    expect((error as { details: Record<string, unknown> }).details).toMatchObject({ status: 400, attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it("leaves no listener on the caller's signal once a call ends, whichever way", async () => {
    const ok = await track(startOpenAITestServer({ tokens: ['a'] }));
    const failing = await track(startOpenAITestServer({ status: 500 }));
    const controller = new AbortController();
    const { signal } = controller;
    const good = await openaiProvider(ok);
    const bad = await openaiProvider(failing, { maxRetries: 1 });
    await good.invoke(messages, {}, { signal });
    await collect(good.stream(messages, {}, { signal }));
    await rejectsSg(bad.invoke(messages, {}, { signal }), 'SG_ERR_PROVIDER_HTTP');
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    await collectUntilError(bad.stream(messages, {}, { signal }));
    expect(getEventListeners(signal, 'abort'), 'after a stream whose every attempt failed').toHaveLength(0);
  });

  it('a consumer that stops reading early closes the connection', async () => {
    const server = await track(startOpenAITestServer({ tokens: ['a', 'b', 'c'], chunkDelayMs: 10_000 }));
    const p = await openaiProvider(server);
    for await (const part of p.stream(messages)) {
      expect(part).toEqual({ type: 'delta', text: 'a' });
      break;
    }
    await waitFor(() => server.requests[0].closedAt !== null, 2);
    expect(server.requests[0].clientAborted).toBe(true);
  });
});
