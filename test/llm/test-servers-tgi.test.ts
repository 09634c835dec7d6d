import { describe, expect, it } from 'vitest';
import { countTokens } from '../../src/llm/usage.js';
import { startTgiTestServer } from '../../src/testing/index.js';
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

const inputs = '<|user|>\nSay hello\n<|assistant|>\n';
const parameters = { max_new_tokens: 20, return_full_text: false, details: true, decoder_input_details: true };

type Token = { id: number; text: string; logprob: number; special: boolean };
type GenerateReply = {
  generated_text: string;
  details: {
    finish_reason: string;
    generated_tokens: number;
    seed: null;
    prefill: { id: number; text: string; logprob: number | null }[];
    tokens: Token[];
  };
};
type TgiError = { error: string; error_type: string };

type StreamEvent = {
  index: number;
  token: Token;
  generated_text: string | null;
  details: { finish_reason: string; generated_tokens: number; seed: null } | null;
};

/** The parsed events of a /generate_stream body. */
async function streamEvents(res: Response): Promise<StreamEvent[]> {
  return sseData(await res.text()).map((d) => JSON.parse(d));
}

describe('TGI test server: /generate', () => {
  it('answers generated_text and details with the counts of llm.md section 4', async () => {
    const server = await track(startTgiTestServer({ answer: 'Hello from the test' }));
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await postJson(`${server.url}/generate`, { inputs, parameters });
    expect(res.status).toBe(200);
    const body = await jsonOf<GenerateReply>(res);
    expect(body.generated_text).toBe('Hello from the test');
    const { details } = body;
    expect(details).toMatchObject({ finish_reason: 'eos_token', seed: null });
    expect(details.generated_tokens).toBe(countTokens('Hello from the test'));
    expect(details.prefill).toHaveLength(countTokens(inputs));
    expect(details.prefill[1]).toEqual({
      id: expect.any(Number),
      text: expect.any(String),
      logprob: expect.any(Number),
    });
    expect(details.tokens.map((t: { text: string }) => t.text)).toEqual(['Hello', ' from', ' the', ' test']);
    expect(details.tokens[0]).toEqual({
      id: expect.any(Number),
      text: 'Hello',
      logprob: expect.any(Number),
      special: false,
    });
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/generate', body: { inputs, parameters } });
  });

  it('sends an empty prefill with prefill: false, and counts from the usage option', async () => {
    const server = await track(startTgiTestServer({ tokens: ['Hel', 'lo'], prefill: false }));
    const body = await jsonOf<GenerateReply>(await postJson(`${server.url}/generate`, { inputs }));
    expect(body.generated_text).toBe('Hello');
    expect(body.details.prefill).toEqual([]);
    expect(body.details.generated_tokens).toBe(countTokens('Hello'));
    const counted = await track(startTgiTestServer({ usage: { prompt_tokens: 7, completion_tokens: 3 } }));
    const { details } = await jsonOf<GenerateReply>(await postJson(`${counted.url}/generate`, { inputs }));
    expect(details.prefill).toHaveLength(7);
    expect(details.generated_tokens).toBe(3);
  });

  it('sends no details with usage: null, and the finishReason option', async () => {
    const server = await track(startTgiTestServer({ usage: null }));
    expect(await jsonOf<GenerateReply>(await postJson(`${server.url}/generate`, { inputs }))).toEqual({
      generated_text: 'Hello from the test server.',
    });
    const cut = await track(startTgiTestServer({ finishReason: 'length' }));
    expect((await jsonOf<GenerateReply>(await postJson(`${cut.url}/generate`, { inputs }))).details.finish_reason).toBe(
      'length',
    );
  });

  it('answers scripted statuses, bad bodies and other routes with TGI error bodies', async () => {
    const server = await track(startTgiTestServer({ status: [429, 200], headers: { 'retry-after': '2' } }));
    const first = await postJson(`${server.url}/generate`, { inputs });
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');
    const error = await jsonOf<TgiError>(first);
    expect(error).toEqual({ error: expect.any(String), error_type: 'overloaded' });
    expect((await postJson(`${server.url}/generate`, { inputs })).status).toBe(200);
    const bad = await postJson(`${server.url}/generate`, { prompt: 'x' });
    expect(bad.status).toBe(422);
    expect((await jsonOf<TgiError>(bad)).error_type).toBe('validation');
    for (const path of ['/v1/chat/completions', '/generate/', '/info']) {
      const res = await postJson(`${server.url}${path}`, { inputs });
      expect(res.status).toBe(404);
      expect(Object.keys(await jsonOf<TgiError>(res)).sort()).toEqual(['error', 'error_type']);
    }
    expect((await fetch(`${server.url}/generate`)).status).toBe(404);
  });

  it('sends rawBody as is', async () => {
    const server = await track(startTgiTestServer({ rawBody: '[{"generated_text": 1}' }));
    const res = await postJson(`${server.url}/generate`, { inputs });
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe('[{"generated_text": 1}');
    const sse = await postJson(`${server.url}/generate_stream`, { inputs });
    expect(sse.headers.get('content-type')).toBe('text/event-stream');
    expect(await sse.text()).toBe('[{"generated_text": 1}');
  });

  it('applies reply() overrides per request, one count over both routes', async () => {
    const server = await track(
      startTgiTestServer({
        reply: (request, index) => ({ answer: `${index}:${(request.body as { inputs: string }).inputs}` }),
      }),
    );
    expect(
      (await jsonOf<GenerateReply>(await postJson(`${server.url}/generate`, { inputs: 'a' }))).generated_text,
    ).toBe('0:a');
    const events = await streamEvents(await postJson(`${server.url}/generate_stream`, { inputs: 'b' }));
    expect(events.at(-1)!.generated_text).toBe('1:b');
  });
});

describe('TGI test server: /generate_stream', () => {
  it('streams one event per token, the last carrying generated_text and details', async () => {
    const server = await track(startTgiTestServer({ tokens: ['Hel', 'lo', ' you'] }));
    const res = await postJson(`${server.url}/generate_stream`, { inputs, parameters });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = await streamEvents(res);
    expect(events.map((e) => e.token.text)).toEqual(['Hel', 'lo', ' you']);
    for (const e of events) expect(e.token).toMatchObject({ special: false, id: expect.any(Number) });
    expect(events.slice(0, -1).every((e) => e.generated_text === null && e.details === null)).toBe(true);
    expect(events.at(-1)).toMatchObject({
      generated_text: 'Hello you',
      details: { finish_reason: 'eos_token', generated_tokens: countTokens('Hello you'), seed: null },
    });
  });

  it('sends one special end token for an empty answer, and null details with usage: null', async () => {
    const server = await track(startTgiTestServer({ answer: '', usage: null }));
    const events = await streamEvents(await postJson(`${server.url}/generate_stream`, { inputs }));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ token: { text: '', special: true }, generated_text: '', details: null });
  });

  it('cuts the connection after cutAfterChunks events', async () => {
    const server = await track(startTgiTestServer({ answer: 'a b c d', cutAfterChunks: 1 }));
    const res = await postJson(`${server.url}/generate_stream`, { inputs });
    const { events, reader } = await readEvents(res, 1);
    expect(JSON.parse(events[0]).token.text).toBe('a');
    await expect(reader.read()).rejects.toThrow();
    await waitFor(() => server.requests[0].closedAt !== null);
    expect(server.requests[0].clientAborted).toBe(false);
  });

  it('stalls with chunkDelayMs: Infinity and records the client abort', async () => {
    const server = await track(startTgiTestServer({ chunkDelayMs: Number.POSITIVE_INFINITY }));
    const controller = new AbortController();
    const res = await postJson(`${server.url}/generate_stream`, { inputs }, { signal: controller.signal });
    const { events } = await readEvents(res, 1);
    expect(events).toHaveLength(1);
    expect(server.requests[0].closedAt).toBeNull();
    controller.abort();
    await waitFor(() => server.requests[0].closedAt !== null, 2);
    expect(server.requests[0].clientAborted).toBe(true);
  });
});
