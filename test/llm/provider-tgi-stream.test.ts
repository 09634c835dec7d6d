import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SgError } from '../../src/errors/index.js';
import { countTokens } from '../../src/llm/usage.js';
import { startTgiTestServer } from '../../src/testing/index.js';
import {
  abortReason,
  cleanEnvEachTest,
  closeServersAfterEach,
  collect,
  collectUntilError,
  deltas,
  donePart,
  inputsEstimate,
  messages,
  tgiProvider,
  trace,
  track,
  waitFor,
} from './provider-fixtures.js';

closeServersAfterEach();
cleanEnvEachTest();

const inputs = '<|system|>\nYou are terse.\n<|user|>\nSay hello\n<|assistant|>\n';

/** A raw /generate_stream body. */
function sse(events: Record<string, unknown>[]): string {
  return events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('');
}
const tok = (text: string, special = false) => ({
  token: { id: 1, text, logprob: -0.1, special },
  generated_text: null,
  details: null,
});

describe('TGI provider: streaming', () => {
  it('posts to /generate_stream and yields token texts, then done with estimated prompt and exact completion', async () => {
    const server = await track(
      startTgiTestServer({ tokens: ['Hel', 'lo', ' you'], usage: { prompt_tokens: 50, completion_tokens: 9 } }),
    );
    const p = await tgiProvider(server);
    const parts = await collect(p.stream(messages, { max_tokens: 3, stop: 'x' }));
    expect(deltas(parts)).toEqual(['Hel', 'lo', ' you']);
    expect(donePart(parts)).toStrictEqual({
      type: 'done',
      answer: 'Hello you',
      usage: inputsEstimate(inputs, 9),
      finishReason: 'stop',
    });
    const [r] = server.requests;
    expect(r.path).toBe('/generate_stream');
    expect(r.body).toEqual({
      inputs,
      parameters: { max_new_tokens: 3, stop: ['x'], return_full_text: false, details: true },
    });
  });

  it('maps the finish reasons: eos_token and stop_sequence to stop, length to length', async () => {
    const seen: Record<string, string> = {};
    for (const finishReason of ['eos_token', 'stop_sequence', 'length']) {
      const server = await track(startTgiTestServer({ tokens: ['a', 'b'], finishReason }));
      const p = await tgiProvider(server);
      seen[finishReason] = donePart(await collect(p.stream(messages))).finishReason;
    }
    expect(seen).toEqual({ eos_token: 'stop', stop_sequence: 'stop', length: 'length' });
  });

  it('skips special and empty tokens', async () => {
    const final = {
      token: { id: 2, text: '</s>', logprob: -0.1, special: true },
      generated_text: 'AB',
      details: { finish_reason: 'eos_token', generated_tokens: 4, seed: null },
    };
    const server = await track(
      startTgiTestServer({ rawBody: sse([tok('<s>', true), tok('A'), tok(''), tok('B'), final]) }),
    );
    const p = await tgiProvider(server);
    const parts = await collect(p.stream(messages));
    expect(deltas(parts)).toEqual(['A', 'B']);
    expect(donePart(parts)).toStrictEqual({
      type: 'done',
      answer: 'AB',
      usage: inputsEstimate(inputs, 4),
      finishReason: 'stop',
    });
  });

  // llm.md section 3.5: completion_tokens is exact from details, "else approximated over the answer"
  it('a final event without details (usage: null) still ends well, the completion counted locally', async () => {
    const server = await track(startTgiTestServer({ tokens: ['Hi', ' there'], usage: null }));
    const p = await tgiProvider(server);
    const parts = await collect(p.stream(messages));
    expect(donePart(parts)).toMatchObject({
      answer: 'Hi there',
      usage: inputsEstimate(inputs, countTokens('Hi there')),
    });
  });

  it('is retried while no chunk has arrived, with the trace headers on every attempt', async () => {
    const server = await track(startTgiTestServer({ tokens: ['ok'], status: [503, 200] }));
    const p = await tgiProvider(server);
    const parts = await collect(p.stream(messages, {}, { trace }));
    expect(deltas(parts)).toEqual(['ok']);
    expect(server.requests).toHaveLength(2);
    for (const r of server.requests) expect(r.headers).toMatchObject(trace);
  });

  it('an error event is SG_ERR_PROVIDER_RESPONSE with the partial answer', async () => {
    const server = await track(
      startTgiTestServer({
        rawBody: sse([tok('Part'), { error: 'Request failed during generation', error_type: 'generation' }]),
      }),
    );
    const p = await tgiProvider(server);
    const { parts, error } = await collectUntilError(p.stream(messages));
    expect(deltas(parts)).toEqual(['Part']);
    expect((error as SgError).code).toBe('SG_ERR_PROVIDER_RESPONSE');
    expect((error as SgError).message).toContain('Request failed during generation');
    expect((error as SgError).details.partial).toStrictEqual({
      answer: 'Part',
      usage: inputsEstimate(inputs, countTokens('Part')),
    });
  });

  it('an unparsable event is SG_ERR_PROVIDER_RESPONSE', async () => {
    const server = await track(startTgiTestServer({ rawBody: `${sse([tok('x')])}data: {oops\n\n` }));
    const p = await tgiProvider(server);
    const { error } = await collectUntilError(p.stream(messages));
    expect((error as SgError).code).toBe('SG_ERR_PROVIDER_RESPONSE');
  });
});

describe('TGI provider: cut and aborted streams', () => {
  it('a cut stream throws with details.partial, after one request only', async () => {
    const server = await track(startTgiTestServer({ tokens: ['One', ' two', ' three'], cutAfterChunks: 2 }));
    const p = await tgiProvider(server, { maxRetries: 3 });
    const { parts, error } = await collectUntilError(p.stream(messages));
    expect(deltas(parts)).toEqual(['One', ' two']);
    expect(error).toBeInstanceOf(SgError);
    expect(['SG_ERR_PROVIDER_RESPONSE', 'SG_ERR_PROVIDER_UNREACHABLE']).toContain((error as SgError).code);
    expect((error as SgError).details.partial).toStrictEqual({
      answer: 'One two',
      usage: inputsEstimate(inputs, countTokens('One two')),
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests).toHaveLength(1);
  });

  it('a stream that ends cleanly without its final event is SG_ERR_PROVIDER_RESPONSE', async () => {
    const server = await track(startTgiTestServer({ rawBody: sse([tok('Half')]) }));
    const p = await tgiProvider(server);
    const { parts, error } = await collectUntilError(p.stream(messages));
    expect(deltas(parts)).toEqual(['Half']);
    expect((error as SgError).code).toBe('SG_ERR_PROVIDER_RESPONSE');
    expect((error as SgError).details.partial).toMatchObject({ answer: 'Half' });
  });

  it('abort mid-stream: SG_ERR_ABORTED, cause the reason, partial with estimated usage; the connection closes', async () => {
    const server = await track(startTgiTestServer({ tokens: ['First', ' second'], chunkDelayMs: 10_000 }));
    const p = await tgiProvider(server);
    const controller = new AbortController();
    const reason = abortReason();
    const seen: string[] = [];
    let caught: unknown;
    try {
      for await (const part of p.stream(messages, {}, { signal: controller.signal })) {
        if (part.type === 'delta') {
          seen.push(part.text);
          controller.abort(reason);
        }
      }
    } catch (err) {
      caught = err;
    }
    expect(seen).toEqual(['First']);
    const err = caught as SgError;
    expect(err).toBeInstanceOf(SgError);
    expect(err.code).toBe('SG_ERR_ABORTED');
    expect(err.cause).toBe(reason);
    expect(err.details.partial).toStrictEqual({ answer: 'First', usage: inputsEstimate(inputs, countTokens('First')) });
    await waitFor(() => server.requests[0].closedAt !== null, 2);
    expect(server.requests[0].clientAborted).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('streamIdleTimeoutMs: a stalled stream is SG_ERR_PROVIDER_TIMEOUT with the partial answer', async () => {
    const server = await track(
      startTgiTestServer({ tokens: ['Only', ' this'], chunkDelayMs: Number.POSITIVE_INFINITY }),
    );
    const p = await tgiProvider(server, { streamIdleTimeoutMs: 100, maxRetries: 2 });
    const started = Date.now();
    const { parts, error } = await collectUntilError(p.stream(messages));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(deltas(parts)).toEqual(['Only']);
    expect((error as SgError).code).toBe('SG_ERR_PROVIDER_TIMEOUT');
    expect((error as SgError).details.partial).toMatchObject({ answer: 'Only' });
    await waitFor(() => server.requests[0].closedAt !== null, 2);
    expect(server.requests[0].clientAborted).toBe(true);
    expect(server.requests).toHaveLength(1);
  });
});

describe('TGI provider: clean-up', () => {
  it("leaves no listener on the caller's signal once a call ends, whichever way", async () => {
    const ok = await track(startTgiTestServer({ tokens: ['a'] }));
    const failing = await track(startTgiTestServer({ status: 503 }));
    const { signal } = new AbortController();
    const good = await tgiProvider(ok);
    const bad = await tgiProvider(failing, { maxRetries: 1 });
    await good.invoke(messages, {}, { signal });
    await collect(good.stream(messages, {}, { signal }));
    await bad.invoke(messages, {}, { signal }).catch(() => undefined);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    await collectUntilError(bad.stream(messages, {}, { signal }));
    expect(getEventListeners(signal, 'abort'), 'after a stream whose every attempt failed').toHaveLength(0);
  });

  it('a consumer that stops reading early closes the connection', async () => {
    const server = await track(startTgiTestServer({ tokens: ['a', 'b', 'c'], chunkDelayMs: 10_000 }));
    const p = await tgiProvider(server);
    for await (const part of p.stream(messages)) {
      expect(part).toEqual({ type: 'delta', text: 'a' });
      break;
    }
    await waitFor(() => server.requests[0].closedAt !== null, 2);
    expect(server.requests[0].clientAborted).toBe(true);
  });
});
