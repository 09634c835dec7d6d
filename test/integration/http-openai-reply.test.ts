// The OpenAI-compatible front, non-streamed (http.md, last section: "Request", "Event", "Reply text",
// "Non-streamed response"), called with the official openai SDK and raw HTTP.
import { describe, expect, test } from 'vitest';
import {
  ANSWER,
  client,
  closeAfterEach,
  completion,
  embeddedGraph,
  MESSAGES,
  recordingGraph,
  start,
  stepGraph,
  USAGE,
  upstream,
  upstreamGraph,
} from './http-openai-helpers.js';

closeAfterEach();

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('a non-streamed completion', () => {
  test("an openai:// LLModel: OpenAI's chat.completion shape, id chatcmpl-<event id>, the graph's usage", async () => {
    const server = await upstream();
    const app = await start(upstreamGraph(server));
    const before = nowSeconds();
    const { data, response } = await client(app)
      .chat.completions.create({ model: 'servegraph', messages: MESSAGES }, { headers: { 'X-Request-Id': 'req-42' } })
      .withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('x-request-id')).toBe('req-42');
    expect(data).toEqual({
      id: 'chatcmpl-req-42',
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'servegraph',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: ANSWER, refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: USAGE,
    });
    expect(data.created).toBeGreaterThanOrEqual(before);
    expect(data.created).toBeLessThanOrEqual(nowSeconds());
    // the graph's LLModel sent the conversation upstream
    expect((server.requests.at(-1)?.body as { messages: unknown } | undefined)?.messages).toEqual(MESSAGES);
    // the same graph asked directly: its own reply carries the same answer and usage
    const direct = await completion(app, { messages: MESSAGES }, {}, '/');
    expect(direct.json()).toEqual({ answer: ANSWER, usage: data.usage });
  });

  test('without X-Request-Id the id is chatcmpl-<the generated event id>, echoed as X-Request-Id', async () => {
    const server = await upstream();
    const app = await start(upstreamGraph(server));
    const { data, response } = await client(app)
      .chat.completions.create({ model: 'servegraph', messages: MESSAGES })
      .withResponse();
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(data.id).toBe(`chatcmpl-${id}`);
  });

  test('an embedded://demo LLModel answers with text and usage', async () => {
    const app = await start(embeddedGraph());
    const reply = await client(app).chat.completions.create({ model: 'servegraph', messages: MESSAGES });
    expect(reply.object).toBe('chat.completion');
    expect(reply.choices).toHaveLength(1);
    expect(reply.choices[0]?.message.role).toBe('assistant');
    expect(typeof reply.choices[0]?.message.content).toBe('string');
    expect((reply.choices[0]?.message.content ?? '').length).toBeGreaterThan(0);
    expect(reply.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(reply.usage?.total_tokens).toBe((reply.usage?.prompt_tokens ?? 0) + (reply.usage?.completion_tokens ?? 0));
  });

  test('a streaming LLModel asked without stream: the collected answer and usage', async () => {
    const server = await upstream();
    const app = await start(upstreamGraph(server, true));
    const reply = await client(app).chat.completions.create({ model: 'servegraph', messages: MESSAGES });
    expect(reply.choices[0]?.message.content).toBe(ANSWER);
    expect(reply.choices[0]?.finish_reason).toBe('stop');
    expect(reply.usage).toEqual(USAGE);
  });
});

describe('reply text', () => {
  const U = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
  /** The graph's reply for each case, chosen by the first message's content. */
  const replies: Record<string, unknown> = {
    string: 'plain text',
    answer: { answer: 'from answer', usage: U, finishReason: 'length' },
    nested: { id: 5, note: 'x', output: { answer: 'from output', usage: U }, later: { answer: 'not this one' } },
    object: { x: 1, y: [2, 'three'] },
    array: [1, { answer: 'in an array' }],
    number: 42,
    nullish: null,
    badAnswer: { answer: 7 },
    oddReason: { answer: 'odd', finishReason: 'eos_token' },
    filter: { answer: 'filtered', finishReason: 'content_filter' },
    tools: { answer: '', finishReason: 'tool_calls' },
  };
  const graph = () => stepGraph((body) => replies[(body as { messages: [{ content: string }] }).messages[0].content]);

  test.each<[string, string, string, unknown]>([
    ['string', 'plain text', 'stop', undefined],
    ['answer', 'from answer', 'length', U],
    ['nested', 'from output', 'stop', U],
    ['object', '{"x":1,"y":[2,"three"]}', 'stop', undefined],
    ['array', '[1,{"answer":"in an array"}]', 'stop', undefined],
    ['number', '42', 'stop', undefined],
    ['nullish', 'null', 'stop', undefined],
    ['badAnswer', '{"answer":7}', 'stop', undefined],
    ['oddReason', 'odd', 'stop', undefined],
    ['filter', 'filtered', 'content_filter', undefined],
    ['tools', '', 'tool_calls', undefined],
  ])('reply %s → content %j, finish_reason %s', async (key, content, reason, usage) => {
    const app = await start(graph());
    const res = await completion(app, { model: 'servegraph', messages: [{ role: 'user', content: key }] });
    expect(res.status).toBe(200);
    const body = res.json() as Record<string, unknown> & { choices: Array<Record<string, unknown>> };
    expect(body.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content, refusal: null },
      logprobs: null,
      finish_reason: reason,
    });
    // usage is omitted when unknown
    if (usage === undefined) expect(Object.hasOwn(body, 'usage')).toBe(false);
    else expect(body.usage).toEqual(usage);
  });

  test("a reply of undefined is the content ''", async () => {
    const app = await start(stepGraph(() => undefined));
    const res = await completion(app, { model: 'servegraph', messages: MESSAGES });
    expect(res.status).toBe(200);
    expect((res.json() as { choices: [{ message: { content: string } }] }).choices[0].message.content).toBe('');
  });

  test('openai.answerPath picks the reply text (and its usage) inside the reply', async () => {
    const reply = { meta: { answer: 'not this' }, result: { text: 'deep text', full: { answer: 'full', usage: U } } };
    const byPath = async (answerPath: string) => {
      const app = await start(
        stepGraph(() => reply),
        { openai: { answerPath } },
      );
      const res = await completion(app, { model: 'servegraph', messages: MESSAGES });
      await app.close({ graceMs: 0 });
      return res.json() as { choices: [{ message: { content: string } }]; usage?: unknown };
    };
    const text = await byPath('result.text');
    expect(text.choices[0].message.content).toBe('deep text');
    expect(text.usage).toBeUndefined();
    const full = await byPath('result.full');
    expect(full.choices[0].message.content).toBe('full');
    expect(full.usage).toEqual(U);
    expect((await byPath('result.missing')).choices[0].message.content).toBe('');
  });
});

describe('the event', () => {
  test('body: the request without stream and stream_options; path /, method POST; id and headers from the request', async () => {
    const { graph, events } = recordingGraph();
    const app = await start(graph);
    const request = {
      model: 'servegraph',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        { role: 'assistant', content: null },
      ],
      temperature: 0.2,
      max_tokens: 5,
      user: 'u-1',
      n: 1,
      stream: false,
      stream_options: { include_usage: true },
    };
    const res = await completion(app, request, { 'x-request-id': 'ev-1', 'x-tenant': 'acme' });
    expect(res.status).toBe(200);
    expect(events).toHaveLength(1);
    const ev = events[0]!;
    const { stream: _s, stream_options: _so, ...expected } = request;
    expect(ev.body).toEqual(expected);
    expect(ev.path).toBe('/');
    expect(ev.method).toBe('POST');
    expect(ev.id).toBe('ev-1');
    expect(ev.headers['x-tenant']).toBe('acme');
    expect(ev.contentType).toBe('application/json');
    // the reply went through the reply-text rules: the object as JSON
    const content = (res.json() as { choices: [{ message: { content: string } }] }).choices[0].message.content;
    expect(JSON.parse(content)).toEqual({ path: '/', method: 'POST', id: 'ev-1', body: expected });
  });

  test("openai: { model: 'm', path: '/chat' }: the event's path is /chat and the model id is m", async () => {
    const { graph, events } = recordingGraph();
    const app = await start(graph, { openai: { model: 'm', path: '/chat' } });
    const reply = await client(app).chat.completions.create({ model: 'm', messages: MESSAGES });
    expect(reply.model).toBe('m');
    expect(events.map((e) => e.path)).toEqual(['/chat']);
    const models = await client(app).models.list();
    expect(models.data.map((m) => m.id)).toEqual(['m']);
    // the default id is no longer served
    const wrong = await completion(app, { model: 'servegraph', messages: MESSAGES });
    expect(wrong.status).toBe(404);
    expect(events).toHaveLength(1);
  });

  test('a streamed request: the event body has neither stream nor stream_options', async () => {
    const { graph, events } = recordingGraph();
    const app = await start(graph);
    const res = await completion(app, {
      model: 'servegraph',
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
      seed: 3,
    });
    expect(res.status).toBe(200);
    expect(events[0]?.body).toEqual({ model: 'servegraph', messages: MESSAGES, seed: 3 });
  });

  test('Accept is ignored: stream alone decides the format', async () => {
    const app = await start(stepGraph(() => 'text'));
    const json = await completion(app, { model: 'servegraph', messages: MESSAGES }, { accept: 'text/event-stream' });
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect((json.json() as { object: string }).object).toBe('chat.completion');
    const sse = await completion(
      app,
      { model: 'servegraph', messages: MESSAGES, stream: true },
      { accept: 'application/json' },
    );
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
  });
});
