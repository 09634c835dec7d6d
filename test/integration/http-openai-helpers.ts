// Helpers of the OpenAI-compatible front's tests (http.md, last section): served graphs closed after each
// test, graphs backed by an LLModel (embedded://demo, or openai:// against servegraph/testing's server).
import OpenAI from 'openai';
import { afterEach } from 'vitest';
import {
  createGraph,
  type Event,
  type Graph,
  type HttpServer,
  LLMPromptArtifact,
  MapStep,
  ModelRunnerStep,
  type ServeOptions,
  type StepContext,
  serve,
} from '../../src/index.js';
import { startOpenAITestServer, type TestServer, type TestServerOptions } from '../../src/testing/index.js';
import { type RawResponse, send } from './http-helpers.js';

/** The usage the upstream test server reports, exactly. */
export const USAGE = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 };
export const ANSWER = 'Hello there friend';
export const MESSAGES = [{ role: 'user' as const, content: 'Say hello' }];

const apps: HttpServer[] = [];
const upstreams: TestServer[] = [];

/** Close the served graphs and upstream servers of each test (call at the top of a test file). */
export function closeAfterEach(): void {
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close({ graceMs: 0 })));
    await Promise.all(upstreams.splice(0).map((s) => s.close()));
  });
}

/** serve() on a free port, without logs; closed after the test. */
export async function start(graph: Graph, options: ServeOptions = {}): Promise<HttpServer> {
  const app = await serve(graph, { port: 0, logger: false, ...options });
  apps.push(app);
  return app;
}

/** The upstream OpenAI test server: ANSWER (unless `tokens` are given) and USAGE by default; closed after the test. */
export async function upstream(options: TestServerOptions = {}): Promise<TestServer> {
  const defaults = options.tokens === undefined ? { answer: ANSWER, usage: USAGE } : { usage: USAGE };
  const s = await startOpenAITestServer({ ...defaults, ...options });
  upstreams.push(s);
  return s;
}

/** The official SDK pointed at the front, without retries. */
export function client(app: HttpServer, apiKey = 'none'): OpenAI {
  return new OpenAI({ baseURL: `${app.url}/v1`, apiKey, maxRetries: 0 });
}

/** A graph whose runner holds one LLModel without a template (it reads `messages`). */
function llmGraph(artifact: LLMPromptArtifact): Graph {
  const runner = new ModelRunnerStep({ name: 'runner' });
  runner.addModel({
    endpointName: 'chat',
    modelClass: 'LLModel',
    executionMechanism: 'asyncio',
    modelArtifact: artifact,
  });
  const graph = createGraph({ name: 'chat' });
  graph.to(runner).respond();
  return graph;
}

/** An LLModel on the embedded demo model; `stream` makes it a streaming model. */
export function embeddedGraph(stream = false): Graph {
  return llmGraph(
    new LLMPromptArtifact({
      key: 'demo',
      modelUrl: 'embedded://demo',
      invocationConfig: stream ? { stream: true, max_tokens: 12 } : { max_tokens: 12 },
    }),
  );
}

/** An LLModel on `openai://test-model` answered by `server`; `stream` makes it a streaming model. */
export function upstreamGraph(server: TestServer, stream = false): Graph {
  return llmGraph(
    new LLMPromptArtifact({
      key: 'remote',
      modelUrl: 'openai://test-model',
      providerOptions: { baseURL: server.url, apiKey: 'upstream-key', retryBaseDelayMs: 1, retryMaxDelayMs: 2 },
      invocationConfig: stream ? { stream: true } : {},
    }),
  );
}

/** A graph of one MapStep (a generator handler streams). */
export function stepGraph(handler: (body: unknown, ctx: StepContext) => unknown): Graph {
  const graph = createGraph({ name: 'step' });
  graph.to(new MapStep({ name: 'answer', handler })).respond();
  return graph;
}

/** What the recording graph keeps of an event, taken when the event arrives (the reply replaces its body). */
export type SeenEvent = Pick<Event, 'path' | 'method' | 'id' | 'headers' | 'contentType' | 'body'>;

/** A graph that records every event it gets and replies with its path, method, id and body as JSON. */
export function recordingGraph(): { graph: Graph; events: SeenEvent[] } {
  const events: SeenEvent[] = [];
  const graph = createGraph({ name: 'recording' });
  graph
    .to(
      new MapStep({
        name: 'record',
        fullEvent: true,
        handler: (ev: Event) => {
          const { path, method, id, headers, contentType } = ev;
          events.push({ path, method, id, headers, contentType, body: structuredClone(ev.body) });
          return { path: ev.path, method: ev.method, id: ev.id, body: ev.body };
        },
      }),
    )
    .respond();
  return { graph, events };
}

/** POST /v1/chat/completions with a raw JSON body (a string is sent as it is). */
export function completion(
  app: HttpServer,
  body: unknown,
  headers: Record<string, string> = {},
  path = '/v1/chat/completions',
): Promise<RawResponse> {
  return send(app.url, {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The `data:` payloads of an SSE text, in order ('[DONE]' kept as a string, the rest parsed). */
export function sseData(text: string): unknown[] {
  const out: unknown[] = [];
  for (const block of text.split('\n\n')) {
    if (block.trim() === '' || block.startsWith(':')) continue;
    const data = block
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6))
      .join('\n');
    out.push(data === '[DONE]' ? data : JSON.parse(data));
  }
  return out;
}

/** A chunk object of the front's stream. */
export type Chunk = {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: Array<{ index: number; delta: Record<string, unknown>; logprobs: null; finish_reason: string | null }>;
  usage?: unknown;
};
