// The OpenAI-compatible front: request checks, errors in OpenAI's shape, /v1/models, auth, and when the front
// is not mounted (http.md, "Routes" and the last section).
import OpenAI, { APIError } from 'openai';
import { describe, expect, test } from 'vitest';
import { createGraph, MapStep, Model, ModelRunnerStep } from '../../src/index.js';
import { send } from './http-helpers.js';
import {
  client,
  closeAfterEach,
  completion,
  embeddedGraph,
  MESSAGES,
  recordingGraph,
  start,
  stepGraph,
} from './http-openai-helpers.js';

closeAfterEach();

type OpenAIErrorBody = { error: Record<string, unknown> };

/** The front's error body: OpenAI's keys plus servegraph's code, step and endpoint. */
function expectOpenAIError(body: unknown, fields: Record<string, unknown>): void {
  const { error } = body as OpenAIErrorBody;
  expect(Object.keys(error).sort()).toEqual(['code', 'endpoint', 'message', 'param', 'step', 'type']);
  expect(typeof error.message).toBe('string');
  expect(error).toMatchObject(fields);
}

async function thrown(p: Promise<unknown>): Promise<APIError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(APIError);
  return err as APIError;
}

describe('request checks', () => {
  test.each<[string, Record<string, unknown>, string | null]>([
    ['a bad role', { messages: [{ role: 'robot', content: 'hi' }] }, 'messages'],
    ['empty messages', { messages: [] }, 'messages'],
    ['messages not an array', { messages: 'hi' }, 'messages'],
    ['a message not an object', { messages: ['hi'] }, 'messages'],
    ['content a number', { messages: [{ role: 'user', content: 5 }] }, 'messages'],
    ['content null for a user', { messages: [{ role: 'user', content: null }] }, 'messages'],
    ['n: 2', { messages: MESSAGES, n: 2 }, 'n'],
    ['stream not a boolean', { messages: MESSAGES, stream: 'yes' }, 'stream'],
    ['model not a string', { model: 5, messages: MESSAGES }, 'model'],
    ['model missing', { model: undefined, messages: MESSAGES }, 'model'],
  ])(
    '%s: 400 SG_ERR_BAD_REQUEST in OpenAI shape, naming the field; the graph does not run',
    async (_n, fields, param) => {
      const { graph, events } = recordingGraph();
      const app = await start(graph);
      const res = await completion(app, { model: 'servegraph', ...fields });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expectOpenAIError(res.json(), {
        type: 'invalid_request_error',
        code: 'SG_ERR_BAD_REQUEST',
        param,
        step: null,
        endpoint: null,
      });
      expect(events).toEqual([]);
    },
  );

  test('a body that is not a JSON object is 400 in OpenAI shape', async () => {
    const { graph, events } = recordingGraph();
    const app = await start(graph);
    for (const body of ['[1]', '"text"', 'null']) {
      const res = await completion(app, body);
      expect(res.status, body).toBe(400);
      expectOpenAIError(res.json(), { type: 'invalid_request_error', param: null });
    }
    const bad = await completion(app, '{"model":');
    expect(bad.status).toBe(400);
    expectOpenAIError(bad.json(), { type: 'invalid_request_error', code: 'SG_ERR_BAD_JSON' });
    expect(events).toEqual([]);
  });

  test('an assistant message may have content null; other fields are kept', async () => {
    const { graph, events } = recordingGraph();
    const app = await start(graph);
    const res = await completion(app, {
      model: 'servegraph',
      messages: [
        { role: 'developer', content: 'x' },
        { role: 'assistant', content: null },
        { role: 'tool', content: [{ type: 'text', text: 'r' }], tool_call_id: 't1' },
      ],
      n: 1,
      stream: false,
      custom: { deep: true },
    });
    expect(res.status).toBe(200);
    expect((events[0]?.body as Record<string, unknown> | undefined)?.custom).toEqual({ deep: true });
  });

  test('a wrong model is 404 SG_ERR_NOT_FOUND with param model', async () => {
    const { graph, events } = recordingGraph();
    const app = await start(graph);
    const res = await completion(app, { model: 'gpt-4o', messages: MESSAGES });
    expect(res.status).toBe(404);
    expectOpenAIError(res.json(), { type: 'invalid_request_error', code: 'SG_ERR_NOT_FOUND', param: 'model' });
    expect(events).toEqual([]);
  });

  test('the SDK throws APIError with these statuses', async () => {
    const app = await start(recordingGraph().graph);
    const sdk = client(app);
    const bad = await thrown(
      sdk.chat.completions.create({ model: 'servegraph', messages: [{ role: 'user', content: 'x' }], n: 2 }),
    );
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad.status).toBe(400);
    expect(bad.code).toBe('SG_ERR_BAD_REQUEST');
    expect(bad.param).toBe('n');
    expect(bad.type).toBe('invalid_request_error');
    const missing = await thrown(sdk.chat.completions.create({ model: 'nope', messages: MESSAGES }));
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect(missing.param).toBe('model');
  });
});

describe('failures of the graph', () => {
  test('a model failure is 502 server_error with x-should-retry: false; the SDK gets an InternalServerError', async () => {
    const app = await start(embeddedGraph());
    const fail = [{ role: 'user' as const, content: 'please [[sg:fail]]' }];
    const res = await completion(app, { model: 'servegraph', messages: fail });
    expect(res.status).toBe(502);
    expect(res.headers['x-should-retry']).toBe('false');
    expectOpenAIError(res.json(), {
      type: 'server_error',
      param: null,
      code: expect.stringMatching(/^SG_ERR_/),
      step: 'runner',
      endpoint: 'chat',
    });
    const err = await thrown(client(app).chat.completions.create({ model: 'servegraph', messages: fail }));
    expect(err.status).toBe(502);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
  });

  test('a step failure is 500 with x-should-retry: false: an SDK that retries calls the graph once', async () => {
    let calls = 0;
    const app = await start(
      stepGraph(() => {
        calls++;
        throw new Error('broken step');
      }),
    );
    const res = await completion(app, { model: 'servegraph', messages: MESSAGES });
    expect(res.status).toBe(500);
    expect(res.headers['x-should-retry']).toBe('false');
    expectOpenAIError(res.json(), { type: 'server_error', code: 'SG_ERR_STEP_FAILED', step: 'answer' });
    calls = 0;
    const retrying = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'none', maxRetries: 2 });
    const err = await thrown(retrying.chat.completions.create({ model: 'servegraph', messages: MESSAGES }));
    expect(err.status).toBe(500);
    expect(calls).toBe(1);
  });

  test('before the graph is ready: 503 SG_ERR_NOT_READY, server_error, Retry-After, no x-should-retry', async () => {
    let release: () => void = () => {};
    const loaded = new Promise<void>((r) => {
      release = r;
    });
    class Slow extends Model<unknown, unknown> {
      override async load(): Promise<void> {
        await loaded;
      }
      override predict(): unknown {
        return 'ready now';
      }
    }
    const runner = new ModelRunnerStep({ name: 'runner' });
    runner.addModel({ endpointName: 'slow', modelClass: Slow, executionMechanism: 'asyncio' });
    const graph = createGraph();
    graph.to(runner).respond();
    const app = await start(graph, { waitUntilReady: false, retryAfterSeconds: 3 });
    const res = await completion(app, { model: 'servegraph', messages: MESSAGES });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('3');
    expect(res.headers['x-should-retry']).toBeUndefined();
    expectOpenAIError(res.json(), { type: 'server_error', code: 'SG_ERR_NOT_READY', param: null });
    release();
    await app.ready();
    const ok = await client(app).chat.completions.create({ model: 'servegraph', messages: MESSAGES });
    expect(ok.choices[0]?.message.content).toBe('ready now');
  });

  test('429 is rate_limit_error with Retry-After', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let entered = 0;
    const app = await start(
      stepGraph(async () => {
        entered++;
        await held;
        return 'done';
      }),
      { maxConcurrency: 1, retryAfterSeconds: 2 },
    );
    const first = completion(app, { model: 'servegraph', messages: MESSAGES });
    while (entered === 0) await new Promise((r) => setTimeout(r, 5));
    const full = await completion(app, { model: 'servegraph', messages: MESSAGES });
    expect(full.status).toBe(429);
    expect(full.headers['retry-after']).toBe('2');
    expect(full.headers['x-should-retry']).toBeUndefined();
    expectOpenAIError(full.json(), { type: 'rate_limit_error', code: 'SG_ERR_OVERLOADED' });
    release();
    expect((await first).status).toBe(200);
  });
});

describe('routes', () => {
  test('405 SG_ERR_METHOD_NOT_ALLOWED with Allow on GET /v1/chat/completions and POST /v1/models', async () => {
    const { graph, events } = recordingGraph();
    const app = await start(graph);
    const get = await send(app.url, { path: '/v1/chat/completions' });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expectOpenAIError(get.json(), { type: 'invalid_request_error', code: 'SG_ERR_METHOD_NOT_ALLOWED' });
    for (const path of ['/v1/models', '/v1/models/servegraph']) {
      const post = await send(app.url, {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(post.status, path).toBe(405);
      expect(post.headers.allow).toMatch(/GET/);
      expectOpenAIError(post.json(), { code: 'SG_ERR_METHOD_NOT_ALLOWED' });
    }
    expect(events).toEqual([]);
  });

  test('GET /v1/models and /v1/models/servegraph; another id is 404', async () => {
    const before = Math.floor(Date.now() / 1000);
    const app = await start(recordingGraph().graph);
    const list = await send(app.url, { path: '/v1/models' });
    expect(list.status).toBe(200);
    const model = { id: 'servegraph', object: 'model', created: expect.any(Number), owned_by: 'servegraph' };
    expect(list.json()).toEqual({ object: 'list', data: [model] });
    const created = (list.json() as { data: [{ created: number }] }).data[0].created;
    expect(created).toBeGreaterThanOrEqual(before);
    expect(created).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    const one = await send(app.url, { path: '/v1/models/servegraph' });
    expect(one.json()).toEqual({ ...model, created });
    const other = await send(app.url, { path: '/v1/models/gpt-4o' });
    expect(other.status).toBe(404);
    expectOpenAIError(other.json(), { type: 'invalid_request_error', code: 'SG_ERR_NOT_FOUND' });
    // and through the SDK
    const sdk = client(app);
    expect((await sdk.models.list()).data.map((m) => m.id)).toEqual(['servegraph']);
    expect((await sdk.models.retrieve('servegraph')).owned_by).toBe('servegraph');
    expect(await thrown(sdk.models.retrieve('gpt-4o'))).toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe('auth', () => {
  test("the SDK's apiKey is the token; a wrong key is 401 authentication_error", async () => {
    const app = await start(
      stepGraph(() => 'secret answer'),
      { authToken: 'tok-1' },
    );
    const ok = await client(app, 'tok-1').chat.completions.create({ model: 'servegraph', messages: MESSAGES });
    expect(ok.choices[0]?.message.content).toBe('secret answer');
    const err = await thrown(client(app, 'wrong').chat.completions.create({ model: 'servegraph', messages: MESSAGES }));
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.status).toBe(401);
    expect(err.type).toBe('authentication_error');
    const raw = await completion(app, { model: 'servegraph', messages: MESSAGES });
    expect(raw.status).toBe(401);
    expect(raw.headers['www-authenticate']).toBe('Bearer');
    expectOpenAIError(raw.json(), { type: 'authentication_error', code: 'SG_ERR_UNAUTHORIZED', param: null });
    expect((await send(app.url, { path: '/v1/models' })).status).toBe(401);
  });
});

describe('when the front is not mounted', () => {
  test('openai: false: /v1/chat/completions and /v1/models go to the graph', async () => {
    const { graph, events } = recordingGraph();
    const app = await start(graph, { openai: false });
    const post = await completion(app, { model: 'servegraph', messages: MESSAGES });
    expect(post.status).toBe(200);
    expect(post.json()).toMatchObject({ path: '/v1/chat/completions', method: 'POST' });
    const get = await send(app.url, { path: '/v1/chat/completions' });
    expect(get.status).toBe(200);
    const models = await send(app.url, { path: '/v1/models' });
    expect(models.json()).toMatchObject({ path: '/v1/models', method: 'GET' });
    expect(events.map((e) => `${e.method} ${e.path}`)).toEqual([
      'POST /v1/chat/completions',
      'GET /v1/chat/completions',
      'GET /v1/models',
    ]);
    // the graph's errors keep servegraph's own shape there
    const bad = await completion(app, '{');
    expect(Object.keys((bad.json() as OpenAIErrorBody).error).sort()).toEqual(['code', 'endpoint', 'message', 'step']);
  });

  test('a graph without a responder: the paths go to the graph (202)', async () => {
    const seen: string[] = [];
    const graph = createGraph();
    graph.to(
      new MapStep({
        name: 'sink',
        handler: (b: unknown) => {
          seen.push(JSON.stringify(b));
        },
      }),
    );
    const app = await start(graph);
    const res = await completion(app, { model: 'servegraph', messages: MESSAGES }, { 'x-request-id': 'no-resp' });
    expect(res.status).toBe(202);
    expect(res.json()).toEqual({ id: 'no-resp' });
    const models = await send(app.url, { path: '/v1/models' });
    expect(models.status).toBe(202);
    const get = await send(app.url, { path: '/v1/chat/completions' });
    expect(get.status).toBe(202);
  });
});
