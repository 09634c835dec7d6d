import type { RecordedRequest } from './recorder.js';

/** The options of a test server (llm.md section 5); every one optional, the same for both servers. */
export type TestServerOptions = {
  /** the fixed answer text (default 'Hello from the test server.'; with only `tokens`, their concatenation) */
  answer?: string;
  /** the deltas of a stream, one chunk each; their concatenation is the answer (default: split before spaces) */
  tokens?: string[];
  /**
   * OpenAI: the `usage` object sent, exactly (default: the counts of llm.md section 4, with both details
   * objects); TGI: `prompt_tokens` sets the prefill length and `completion_tokens` `details.generated_tokens`.
   * `null`: OpenAI sends no usage, TGI sends no `details`.
   */
  usage?: Record<string, unknown> | null;
  /** TGI: `false` sends an empty `details.prefill` (default true) */
  prefill?: boolean;
  /** the reply status (default 200); an array scripts successive requests, its last value repeating */
  status?: number | number[];
  /** extra response headers, e.g. `{ 'retry-after': '1' }` */
  headers?: Record<string, string>;
  /** ms to wait before the response headers (default 0; `Infinity` waits until the client goes away) */
  delayMs?: number;
  /** ms to wait between two stream chunks (default 0; `Infinity` stalls after the first chunk) */
  chunkDelayMs?: number;
  /** destroy a stream's connection after this many chunks, with no final event */
  cutAfterChunks?: number;
  /** send this string as the body instead (JSON content type; a stream request: the raw SSE body) */
  rawBody?: string;
  /** the finish reason sent (default: OpenAI 'stop', TGI 'eos_token'); e.g. 'length' */
  finishReason?: string;
  /** per-request overrides of the options above; `index` counts the generation requests from 0 */
  reply?: (request: RecordedRequest, index: number) => TestServerOverrides | undefined | null;
};

/** What `reply` returns: options of this one request, merged over the server's options. */
export type TestServerOverrides = Omit<TestServerOptions, 'reply'>;

/** The options of one request, merged and defaulted. */
export type ResolvedOptions = {
  answer: string;
  tokens: string[];
  /** undefined: the default counts */
  usage: Record<string, unknown> | null | undefined;
  prefill: boolean;
  status: number;
  headers: Record<string, string>;
  delayMs: number;
  chunkDelayMs: number;
  cutAfterChunks: number | undefined;
  rawBody: string | undefined;
  finishReason: string | undefined;
};

export const DEFAULT_ANSWER = 'Hello from the test server.';

const KEYS = new Set([
  'answer',
  'tokens',
  'usage',
  'prefill',
  'status',
  'headers',
  'delayMs',
  'chunkDelayMs',
  'cutAfterChunks',
  'rawBody',
  'finishReason',
  'reply',
]);

/** The answer split before each space: 'Hello from the' -> ['Hello', ' from', ' the']. */
export function splitTokens(answer: string): string[] {
  return answer === '' ? [] : answer.split(/(?= )/);
}

function fail(where: string, key: string, expected: string, got: unknown): never {
  const shown = typeof got === 'string' ? JSON.stringify(got) : Array.isArray(got) ? 'an array' : String(got);
  throw new TypeError(`${where}: option ${key} must be ${expected}, got ${shown}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isStatus(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 200 && (v as number) <= 599;
}

function checkDelay(where: string, key: string, v: unknown): void {
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0) fail(where, key, 'a number >= 0 (or Infinity)', v);
}

/** Throws a TypeError naming the first nonsensical option; `where` names the caller in the message. */
export function validateOptions(options: unknown, where: string, allowReply = true): void {
  if (options === undefined) return;
  if (!isPlainObject(options)) throw new TypeError(`${where}: options must be an object, got ${String(options)}`);
  for (const [key, v] of Object.entries(options)) {
    if (!KEYS.has(key) || (key === 'reply' && !allowReply))
      throw new TypeError(`${where}: unknown option ${JSON.stringify(key)}`);
    if (v === undefined) continue;
    switch (key) {
      case 'answer':
      case 'rawBody':
      case 'finishReason':
        if (typeof v !== 'string') fail(where, key, 'a string', v);
        break;
      case 'tokens':
        if (!Array.isArray(v) || !v.every((t) => typeof t === 'string')) fail(where, key, 'an array of strings', v);
        break;
      case 'usage':
        if (v !== null && !isPlainObject(v)) fail(where, key, 'an object or null', v);
        break;
      case 'prefill':
        if (typeof v !== 'boolean') fail(where, key, 'a boolean', v);
        break;
      case 'status':
        if (!(isStatus(v) || (Array.isArray(v) && v.length > 0 && v.every(isStatus))))
          fail(where, key, 'an HTTP status in 200..599 or a non-empty array of them', v);
        break;
      case 'headers':
        if (!isPlainObject(v) || !Object.values(v).every((h) => typeof h === 'string'))
          fail(where, key, 'an object of strings', v);
        break;
      case 'delayMs':
      case 'chunkDelayMs':
        checkDelay(where, key, v);
        break;
      case 'cutAfterChunks':
        if (!Number.isInteger(v) || (v as number) < 0) fail(where, key, 'an integer >= 0', v);
        break;
      case 'reply':
        if (typeof v !== 'function') fail(where, key, 'a function', v);
        break;
    }
  }
  const o = options as TestServerOptions;
  if (o.answer !== undefined && o.tokens !== undefined && o.tokens.join('') !== o.answer)
    throw new TypeError(
      `${where}: options answer and tokens disagree: the tokens join to ${JSON.stringify(o.tokens.join(''))}, ` +
        `not ${JSON.stringify(o.answer)}`,
    );
}

/** `layer`'s defined values over `base`; `answer` and `tokens` travel together (each derived from the other). */
function merge(base: TestServerOverrides, layer: TestServerOverrides): TestServerOverrides {
  const out: TestServerOverrides = { ...base };
  for (const [k, v] of Object.entries(layer)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  if (layer.answer !== undefined || layer.tokens !== undefined) {
    out.answer = layer.answer ?? layer.tokens!.join('');
    out.tokens = layer.tokens ?? splitTokens(out.answer);
  }
  return out;
}

/**
 * The options of the request at `index` (counting generation requests): the server's options, with the
 * overrides `reply` returns merged over them. Throws a TypeError when `reply` throws or returns nonsense.
 */
export function resolveOptions(options: TestServerOptions, request: RecordedRequest, index: number): ResolvedOptions {
  const { reply, ...base } = options;
  let o = merge({ answer: DEFAULT_ANSWER }, base);
  if (reply) {
    const overrides = reply(request, index);
    if (overrides !== undefined && overrides !== null) {
      validateOptions(overrides, 'reply() of the test server', false);
      o = merge(o, overrides);
    }
  }
  const answer = o.answer ?? DEFAULT_ANSWER;
  const statuses = Array.isArray(o.status) ? o.status : [o.status ?? 200];
  return {
    answer,
    tokens: o.tokens ?? splitTokens(answer),
    usage: o.usage,
    prefill: o.prefill ?? true,
    status: statuses[Math.min(index, statuses.length - 1)],
    headers: o.headers ?? {},
    delayMs: o.delayMs ?? 0,
    chunkDelayMs: o.chunkDelayMs ?? 0,
    cutAfterChunks: o.cutAfterChunks,
    rawBody: o.rawBody,
    finishReason: o.finishReason,
  };
}
