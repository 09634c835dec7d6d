import type { ChatMessage } from '../llm/chat.js';
import { countChatTokens, countTokens } from '../llm/usage.js';
import type { TestServerOptions } from './options.js';
import { type Call, sendJson, sendSse, startTestServer, type TestServer } from './server-core.js';

const MODEL_ID = 'test-model';

/** OpenAI's error `type` and `code` for a status. */
function errorKind(status: number): { type: string; code: string | null } {
  if (status === 401) return { type: 'invalid_request_error', code: 'invalid_api_key' };
  if (status === 404) return { type: 'invalid_request_error', code: 'not_found' };
  if (status === 429) return { type: 'rate_limit_exceeded', code: 'rate_limit_exceeded' };
  if (status >= 500) return { type: 'server_error', code: null };
  return { type: 'invalid_request_error', code: null };
}

/** OpenAI's error body: `{error: {message, type, param, code}}`. */
function errorBody(status: number, message: string): unknown {
  return { error: { message, param: null, ...errorKind(status) } };
}

/** The messages of a request, made safe to count (content null or odd shapes count as ''). */
function countableMessages(messages: unknown[]): ChatMessage[] {
  return messages.map((m) => {
    const r = (m ?? {}) as Record<string, unknown>;
    const content = typeof r.content === 'string' || Array.isArray(r.content) ? r.content : '';
    const msg: ChatMessage = { role: String(r.role ?? ''), content: content as ChatMessage['content'] };
    if (typeof r.name === 'string') msg.name = r.name;
    return msg;
  });
}

/** The usage sent: the option's object exactly, or the counts of llm.md section 4 with both details objects. */
function usageOf(call: Call, messages: unknown[]): Record<string, unknown> | null {
  if (call.opts.usage !== undefined) return call.opts.usage;
  const prompt = countChatTokens(countableMessages(messages));
  const completion = countTokens(call.opts.answer);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    completion_tokens_details: {
      accepted_prediction_tokens: 0,
      audio_tokens: 0,
      reasoning_tokens: 0,
      rejected_prediction_tokens: 0,
    },
    prompt_tokens_details: { audio_tokens: 0, cached_tokens: 0 },
  };
}

async function chatCompletions(call: Call): Promise<void> {
  const body = call.body as Record<string, unknown> | null;
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return sendJson(call, 400, errorBody(400, 'the request body must be a JSON object'));
  if (typeof body.model !== 'string' || body.model === '')
    return sendJson(call, 400, errorBody(400, 'you must provide a model parameter'));
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    return sendJson(call, 400, errorBody(400, "'messages' must be a non-empty array"));
  const { opts } = call;
  const usage = usageOf(call, body.messages);
  const id = `chatcmpl-test-${call.index}`;
  const created = Math.floor(Date.now() / 1000);
  const model = body.model;
  const finishReason = opts.finishReason ?? 'stop';
  if (body.stream !== true) {
    const message = { role: 'assistant', content: opts.answer, refusal: null };
    const choice = { index: 0, message, finish_reason: finishReason, logprobs: null };
    const completion: Record<string, unknown> = { id, object: 'chat.completion', created, model, choices: [choice] };
    if (usage !== null) completion.usage = usage;
    return sendJson(call, opts.status, completion);
  }
  const streamOptions = body.stream_options as { include_usage?: unknown } | null | undefined;
  const includeUsage = streamOptions?.include_usage === true;
  // like OpenAI: with include_usage, every chunk carries `usage: null` but the last, which carries the usage
  const chunk = (choices: unknown[], extra: Record<string, unknown> = includeUsage ? { usage: null } : {}) =>
    JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra });
  const delta = (d: Record<string, unknown>, finish: string | null) => [
    { index: 0, delta: d, finish_reason: finish, logprobs: null },
  ];
  const tokens = opts.tokens.length > 0 ? opts.tokens : [''];
  const events = tokens.map((t, i) => chunk(delta(i === 0 ? { role: 'assistant', content: t } : { content: t }, null)));
  events.push(chunk(delta({}, finishReason)));
  if (includeUsage && usage !== null) events.push(chunk([], { usage }));
  events.push('[DONE]');
  await sendSse(call, events);
}

/**
 * Starts an OpenAI-compatible test server (llm.md section 5): `POST /v1/chat/completions` answers JSON or,
 * with `stream: true`, SSE; `GET /v1/models` lists one model; other routes are 404. `url` ends in `/v1`.
 */
export function startOpenAITestServer(options?: TestServerOptions): Promise<TestServer> {
  return startTestServer(
    {
      urlSuffix: '/v1',
      errorBody,
      routes: [{ method: 'POST', path: '/v1/chat/completions', answer: chatCompletions }],
      isStream: (body) => (body as { stream?: unknown } | null)?.stream === true,
      extra: (app) => {
        app.get('/v1/models', async () => ({
          object: 'list',
          data: [{ id: MODEL_ID, object: 'model', created: 0, owned_by: 'servegraph' }],
        }));
      },
    },
    options,
    'startOpenAITestServer()',
  );
}
