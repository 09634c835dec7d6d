// Shared helpers of the LLModel tests (llm.md section 2 and the test list of section 5).
// Worker mechanisms (thread_pool, process_pool) load servegraph's dist/: run `npm run build` first.
import { afterEach, expect } from 'vitest';
import {
  type CallRecord,
  createGraph,
  type Event,
  type ExecutionMechanism,
  type Graph,
  LLMPromptArtifact,
  type LLMPromptArtifactInit,
  type MockServer,
  type ModelArtifact,
  type ModelEntry,
  ModelRunnerStep,
  ModelSelector,
  SgError,
} from '../../src/index.js';
import {
  type RecordedRequest,
  startOpenAITestServer,
  type TestServer,
  type TestServerOptions,
} from '../../src/testing/index.js';

import { sleep } from '../support/core.js';

export { rejectsSg, sleep, throwsSg, useServers, waitFor } from '../support/core.js';

/** The mechanisms a model may be given (a proxy's 'shared_executor' is set by addSharedModelProxy). */
export type Mechanism = Exclude<ExecutionMechanism, 'shared_executor'>;

/** How the tests name the model class: the built-in name (llm.md section 2). */
export const LLMODEL = 'LLModel';

/** The traceparent of the W3C example. */
export const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** A usage object with extra keys at every depth, as a server may send it (llm.md section 4). */
export const SERVER_USAGE = {
  prompt_tokens: 21,
  completion_tokens: 4,
  total_tokens: 25,
  completion_tokens_details: { accepted_prediction_tokens: 0, audio_tokens: 0, reasoning_tokens: 1 },
  prompt_tokens_details: { audio_tokens: 0, cached_tokens: 3 },
  vendor_extra: { deep: [1, 2] },
};

const llmServers: TestServer[] = [];

/** Close the OpenAI test servers started by `openai()` after each test of the file that calls this. */
export function closeLlmServersAfterEach(): void {
  afterEach(async () => {
    await Promise.all(llmServers.splice(0).map((s) => s.close()));
  });
}

/** An OpenAI test server, closed after the test (with `closeLlmServersAfterEach`). */
export async function openai(options?: TestServerOptions): Promise<TestServer> {
  const s = await startOpenAITestServer(options);
  llmServers.push(s);
  return s;
}

/** Provider options for a test server: its URL, a key, fast retries. */
export function providerOptions(server: TestServer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { baseURL: server.url, apiKey: 'test', retryBaseDelayMs: 1, retryMaxDelayMs: 2, ...extra };
}

/** A prompt artifact answered by `server` (modelUrl 'openai://test-model'). */
export function promptFor(
  server: TestServer,
  init: Partial<LLMPromptArtifactInit> & { key?: string } = {},
): LLMPromptArtifact {
  return new LLMPromptArtifact({
    key: 'p',
    modelUrl: 'openai://test-model',
    providerOptions: providerOptions(server),
    ...init,
  } as LLMPromptArtifactInit);
}

/** The generation requests a test server received, in order. */
export function generations(server: TestServer): RecordedRequest[] {
  return server.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/chat/completions'));
}

/** The messages of the i-th generation request. */
export function sentMessages(server: TestServer, i = 0): unknown {
  return (generations(server)[i]?.body as { messages?: unknown } | undefined)?.messages;
}

/** The body of the i-th generation request. */
export function sentBody(server: TestServer, i = 0): Record<string, unknown> {
  return generations(server)[i]?.body as Record<string, unknown>;
}

/** The codes of an error and of its causes, outermost first. */
export function codeChain(err: unknown): string[] {
  const out: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 10; depth++) {
    if (e instanceof SgError) out.push(e.code);
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

/** Assert that `p` rejects with an SgError of status `status` that has `code` somewhere in its cause chain. */
export async function rejectsWithin(p: Promise<unknown>, code: string, status?: number): Promise<SgError> {
  let caught: unknown;
  let resolved = false;
  try {
    await p;
    resolved = true;
  } catch (err) {
    caught = err;
  }
  expect(resolved, `expected a rejection with ${code} in its chain`).toBe(false);
  expect(caught).toBeInstanceOf(SgError);
  expect(codeChain(caught)).toContain(code);
  if (status !== undefined) expect((caught as SgError).status).toBe(status);
  return caught as SgError;
}

/** A graph with one runner 'runner' holding one LLModel endpoint, which responds. */
export function llmGraph(
  endpointName: string,
  artifact: LLMPromptArtifact | ModelArtifact | undefined,
  options: {
    mechanism?: Mechanism;
    inputPath?: string;
    resultPath?: string;
    modelParameters?: Record<string, unknown>;
    modelClass?: unknown;
  } = {},
): { graph: Graph; runner: ModelRunnerStep } {
  const graph = createGraph();
  const runner = new ModelRunnerStep({ name: 'runner' });
  runner.addModel({
    endpointName,
    modelClass: (options.modelClass ?? LLMODEL) as string,
    executionMechanism: options.mechanism ?? 'asyncio',
    modelArtifact: artifact,
    inputPath: options.inputPath,
    resultPath: options.resultPath,
    modelParameters: options.modelParameters,
  });
  graph.to(runner).respond();
  return { graph, runner };
}

/** Picks the one endpoint named by the body's `topic` field. */
export class TopicSelector extends ModelSelector {
  override select(event: Event, _models: readonly ModelEntry[]): string[] {
    return [(event.body as { topic: string }).topic];
  }
}

/** Collect every chunk of an async iterable. */
export async function drain(it: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const c of it) out.push(c);
  return out;
}

/** Set environment variables for the duration of a test; `undefined` unsets. Returns the restore function. */
export function withEnv(vars: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** The call records of an endpoint (after flush()), waiting up to `seconds` until there are at least `n`. */
export async function callRecords(server: MockServer, endpoint: string, n = 1, seconds = 2): Promise<CallRecord[]> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    await server.monitoring.flush();
    const calls = await server.monitoring.calls(endpoint);
    if (calls.length >= n || Date.now() > until) return calls;
    await sleep(5);
  }
}
