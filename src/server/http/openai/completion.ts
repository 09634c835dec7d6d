import type { StreamDone } from '../../../engine/stream-types.js';
import type { SgError } from '../../../errors/index.js';
import type { StreamEncoder } from '../stream-reply.js';

/** The text, usage and finish reason of a graph's reply (http.md, "Reply text"). */
export type ReplyText = { content: string; usage?: unknown; finishReason?: unknown };

const REASONS = new Set(['stop', 'length', 'content_filter', 'tool_calls']);
const isAnswer = (v: unknown): v is { answer: string; usage?: unknown; finishReason?: unknown } =>
  v !== null && typeof v === 'object' && typeof (v as { answer?: unknown }).answer === 'string';

/** A string; an object with a string `answer`; the first own property holding such an object; else the JSON. */
export function replyText(r: unknown): ReplyText {
  if (typeof r === 'string') return { content: r };
  if (isAnswer(r)) return { content: r.answer, usage: r.usage, finishReason: r.finishReason };
  if (r !== null && typeof r === 'object' && !Array.isArray(r)) {
    for (const v of Object.values(r))
      if (isAnswer(v)) return { content: v.answer, usage: v.usage, finishReason: v.finishReason };
  }
  return { content: r === undefined ? '' : (JSON.stringify(r) ?? '') };
}

/** A chunk's text: a string, an object's string `answer`, else its JSON. */
function chunkText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (isAnswer(c)) return c.answer;
  return JSON.stringify(c) ?? '';
}

export const finishReasonOf = (r: unknown): string => (typeof r === 'string' && REASONS.has(r) ? r : 'stop');

/** What every object of one response shares: `chatcmpl-<event id>`, the arrival second, the model id. */
export type CompletionHead = { id: string; created: number; model: string };

/** The non-streamed `chat.completion` object. */
export function completionObject(head: CompletionHead, t: ReplyText): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...head,
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: t.content, refusal: null },
        logprobs: null,
        finish_reason: finishReasonOf(t.finishReason),
      },
    ],
  };
  if (t.usage !== undefined && t.usage !== null) out.usage = t.usage;
  return out;
}

/** OpenAI's error type for a status (http.md, the front's "Errors"). */
export function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** The front's error object: OpenAI's shape with servegraph's fields added. */
export function openAIError(err: SgError): Record<string, unknown> {
  const param = typeof err.details.param === 'string' ? err.details.param : null;
  return {
    error: {
      message: err.message,
      type: errorType(err.status),
      param,
      code: err.code,
      step: err.step ?? null,
      endpoint: err.endpoint ?? null,
    },
  };
}

/**
 * The streamed response of the front: SSE `data:` lines of `chat.completion.chunk` objects: a role chunk, one
 * per graph chunk, a closing chunk, the usage chunk (with `include_usage` and usage known), then `[DONE]`.
 */
export function chunkEncoder(
  head: CompletionHead,
  includeUsage: boolean,
  answerAt: (r: unknown) => unknown = (r) => r,
): StreamEncoder {
  let roleSent = false;
  const line = (choices: unknown[], usage?: unknown): string => {
    const obj: Record<string, unknown> = { ...head, object: 'chat.completion.chunk', choices };
    if (includeUsage) obj.usage = usage ?? null;
    return `data: ${JSON.stringify(obj)}\n\n`;
  };
  const delta = (d: Record<string, unknown>, finish: string | null) => [
    { index: 0, delta: d, logprobs: null, finish_reason: finish },
  ];
  const role = (): string => {
    if (roleSent) return '';
    roleSent = true;
    return line(delta({ role: 'assistant', content: '' }, null));
  };
  return {
    contentType: 'text/event-stream; charset=utf-8',
    chunk: (_seq, body) => role() + line(delta({ content: chunkText(body) }, null)),
    done: (payload: Record<string, unknown>) => {
      const d = payload as StreamDone & { finishReason?: unknown };
      let text = role() + line(delta({}, finishReasonOf(d.finishReason)));
      if (includeUsage && d.usage !== undefined && d.usage !== null) text += line([], d.usage);
      return `${text}data: [DONE]\n\n`;
    },
    error: (_error, err) => `data: ${JSON.stringify(openAIError(err))}\n\n`,
    ping: ': ping\n\n',
    plain: (body) => {
      const t = replyText(answerAt(body));
      return { chunks: [t.content], done: { usage: t.usage, finishReason: t.finishReason } };
    },
  };
}
