import { createServer } from 'node:net';
import { afterEach, beforeEach, expect } from 'vitest';
import { SgError } from '../../src/errors/index.js';
import type { ChatMessage } from '../../src/llm/chat.js';
import type { LLMPromptArtifact } from '../../src/llm/prompt-artifact.js';
import type { ModelProvider, StreamPart } from '../../src/llm/providers/provider.js';
import { createProvider } from '../../src/llm/providers/registry.js';
import { countChatTokens, countTokens } from '../../src/llm/usage.js';
import { ModelArtifact } from '../../src/models/artifacts/model-artifact.js';
import type { RecordedRequest, TestServer } from '../../src/testing/index.js';

/** Shared helpers of the provider tests (OpenAI-compatible, TGI, registry). */

export { rejectsSg, sleep, throwsSg, waitFor } from '../support/core.js';
export { closeServersAfterEach, track } from './test-server-fixtures.js';

export const messages: ChatMessage[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say hello' },
];

/** The environment variables the built-in providers read (llm.md section 3.2, 3.3). */
const PROVIDER_ENV = [
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
  'OPENAI_ORG_ID',
  'OPENAI_PROJECT_ID',
  'OPENAI_TIMEOUT',
  'OPENAI_MAX_RETRIES',
  'HF_TOKEN',
  'HF_ENDPOINT_URL',
];

/**
 * Unset the providers' environment variables (and `extra` ones) before each test of the file, and restore
 * them after it, so that the runner's environment never leaks into a test and a test's never leaks out.
 */
export function cleanEnvEachTest(extra: string[] = []): void {
  const saved = new Map<string, string | undefined>();
  beforeEach(() => {
    for (const k of [...PROVIDER_ENV, ...extra]) {
      saved.set(k, process.env[k]);
      delete process.env[k];
    }
  });
  afterEach(() => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    saved.clear();
  });
}

type ProviderSetup = {
  model?: string;
  defaultConfig?: Record<string, unknown>;
  prompt?: LLMPromptArtifact;
};

/** A loaded provider for `modelUrl`, built as LLModel builds it (endpoint 'e'). */
export function providerFor(
  modelUrl: string,
  providerOptions: Record<string, unknown> = {},
  setup: Omit<ProviderSetup, 'model'> = {},
): Promise<ModelProvider> {
  const modelArtifact = new ModelArtifact({
    key: 'm',
    modelUrl,
    providerOptions,
    ...(setup.defaultConfig ? { defaultConfig: setup.defaultConfig } : {}),
  });
  return createProvider({ modelArtifact, prompt: setup.prompt, endpoint: 'e' });
}

/** An OpenAI-compatible provider talking to `server` (or a URL), key 'test', 1 ms backoff. */
export function openaiProvider(
  server: TestServer | string,
  options: Record<string, unknown> = {},
  setup: ProviderSetup = {},
): Promise<ModelProvider> {
  const baseURL = typeof server === 'string' ? server : server.url;
  return providerFor(
    `openai://${setup.model ?? 'test-model'}`,
    { baseURL, apiKey: 'test', retryBaseDelayMs: 1, ...options },
    setup,
  );
}

/** A TGI provider (`huggingface://org/model` unless `setup.model` says otherwise) talking to `server`. */
export function tgiProvider(
  server: TestServer | string,
  options: Record<string, unknown> = {},
  setup: ProviderSetup & { scheme?: string } = {},
): Promise<ModelProvider> {
  const endpointUrl = typeof server === 'string' ? server : server.url;
  return providerFor(
    `${setup.scheme ?? 'huggingface'}://${setup.model ?? 'org/model'}`,
    { endpointUrl, retryBaseDelayMs: 1, ...options },
    setup,
  );
}

/** All parts of a stream that ends well. */
export async function collect(stream: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const p of stream) parts.push(p);
  return parts;
}

/** The parts of a stream until it throws; fails the test when it does not throw. */
export async function collectUntilError(
  stream: AsyncIterable<StreamPart>,
): Promise<{ parts: StreamPart[]; error: unknown }> {
  const parts: StreamPart[] = [];
  try {
    for await (const p of stream) parts.push(p);
  } catch (error) {
    return { parts, error };
  }
  expect.fail(`expected the stream to throw, got ${JSON.stringify(parts)}`);
}

/** The text of the delta parts. */
export function deltas(parts: StreamPart[]): string[] {
  return parts.flatMap((p) => (p.type === 'delta' ? [p.text] : []));
}

/** The one done part, checked to be the last part. */
export function donePart(parts: StreamPart[]): Extract<StreamPart, { type: 'done' }> {
  const done = parts.filter((p) => p.type === 'done');
  expect(done).toHaveLength(1);
  expect(parts.at(-1)).toBe(done[0]);
  return done[0] as Extract<StreamPart, { type: 'done' }>;
}

/** The local usage of llm.md section 4 for a chat prompt and an answer, marked estimated. */
export function chatEstimate(msgs: ChatMessage[], answer: string) {
  const prompt = countChatTokens(msgs);
  const completion = countTokens(answer);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, estimated: true };
}

/** The local usage of a TGI call (prompt counted over the `inputs` string sent), marked estimated. */
export function inputsEstimate(inputs: string, completion: number) {
  const prompt = countTokens(inputs);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, estimated: true };
}

/** A loopback URL where nothing listens (a port just released). */
export async function closedPortUrl(suffix = ''): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return `http://127.0.0.1:${port}${suffix}`;
}

/** Gap between the end of request `a` and the arrival of request `b`, in ms. */
export function gapMs(a: RecordedRequest, b: RecordedRequest): number {
  expect(a.closedAt, 'the first exchange should have ended').not.toBeNull();
  return b.receivedAt - a.closedAt!;
}

export const trace = {
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  tracestate: 'vendor=opaque',
};

/** A reason for aborting a call, as the engine gives one. */
export function abortReason(): SgError {
  return new SgError('SG_ERR_CLIENT_CLOSED', 'the client went away');
}
