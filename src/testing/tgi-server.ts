import { countTokens } from '../llm/usage.js';
import type { TestServerOptions } from './options.js';
import { type Call, sendJson, sendSse, startTestServer, type TestServer } from './server-core.js';

/** TGI's `error_type` for a status. */
function errorType(status: number): string {
  if (status === 400 || status === 422) return 'validation';
  if (status === 404) return 'not_found';
  if (status === 424) return 'generation';
  if (status === 429) return 'overloaded';
  if (status >= 500) return 'incomplete_generation';
  return 'validation';
}

/** TGI's error body: `{error, error_type}`. */
function errorBody(status: number, message: string): unknown {
  return { error: message, error_type: errorType(status) };
}

/** A count of `usage`, when it holds a non-negative integer there. */
function countOf(usage: Record<string, unknown>, key: string): number | undefined {
  const v = usage[key];
  return Number.isInteger(v) && (v as number) >= 0 ? (v as number) : undefined;
}

type Counts = { prompt: number; completion: number };

/** The counts TGI reports: from the `usage` option, else the local counts of llm.md section 4; null: no details. */
function countsOf(call: Call, inputs: string): Counts | null {
  const usage = call.opts.usage;
  if (usage === null) return null;
  return {
    prompt: (usage && countOf(usage, 'prompt_tokens')) ?? countTokens(inputs),
    completion: (usage && countOf(usage, 'completion_tokens')) ?? countTokens(call.opts.answer),
  };
}

const TOKEN_ID_BASE = 1000;
const EOS_ID = 2;

function token(text: string, i: number) {
  return { id: TOKEN_ID_BASE + i, text, logprob: -0.1, special: false };
}

/** The validated body, or null once a 422 is sent. */
function inputsOf(call: Call): string | null {
  const body = call.body as { inputs?: unknown } | null;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    sendJson(call, 422, errorBody(422, 'Failed to deserialize the JSON body: expected an object'));
    return null;
  }
  if (typeof body.inputs !== 'string') {
    sendJson(call, 422, errorBody(422, 'Failed to deserialize the JSON body: missing field `inputs` (a string)'));
    return null;
  }
  return body.inputs;
}

function generate(call: Call): void {
  const inputs = inputsOf(call);
  if (inputs === null) return;
  const { opts } = call;
  const counts = countsOf(call, inputs);
  if (counts === null) {
    sendJson(call, opts.status, { generated_text: opts.answer });
    return;
  }
  // as TGI, the first prefill token has no logprob
  const prefill = opts.prefill
    ? Array.from({ length: counts.prompt }, (_, i) => ({ id: 1 + i, text: `p${i}`, logprob: i === 0 ? null : -0.5 }))
    : [];
  const details = {
    finish_reason: opts.finishReason ?? 'eos_token',
    generated_tokens: counts.completion,
    seed: null,
    prefill,
    tokens: opts.tokens.map(token),
  };
  sendJson(call, opts.status, { generated_text: opts.answer, details });
}

async function generateStream(call: Call): Promise<void> {
  const inputs = inputsOf(call);
  if (inputs === null) return;
  const { opts } = call;
  const counts = countsOf(call, inputs);
  // as TGI, a generation with no text still yields one (special, end-of-sequence) token
  const tokens =
    opts.tokens.length > 0 ? opts.tokens.map(token) : [{ id: EOS_ID, text: '', logprob: -0.1, special: true }];
  const last = tokens.length - 1;
  const details =
    counts === null
      ? null
      : { finish_reason: opts.finishReason ?? 'eos_token', generated_tokens: counts.completion, seed: null };
  const events = tokens.map((t, i) =>
    JSON.stringify({
      index: i + 1,
      token: t,
      generated_text: i === last ? opts.answer : null,
      details: i === last ? details : null,
    }),
  );
  await sendSse(call, events);
}

/**
 * Starts a test server speaking text-generation-inference's native protocol (llm.md section 5):
 * `POST /generate` and `POST /generate_stream`; other routes are 404. `url` is the server's root.
 */
export function startTgiTestServer(options?: TestServerOptions): Promise<TestServer> {
  return startTestServer(
    {
      urlSuffix: '',
      errorBody,
      routes: [
        { method: 'POST', path: '/generate', answer: generate },
        { method: 'POST', path: '/generate_stream', answer: generateStream },
      ],
      isStream: (_body, path) => path.split('?')[0] === '/generate_stream',
    },
    options,
    'startTgiTestServer()',
  );
}
