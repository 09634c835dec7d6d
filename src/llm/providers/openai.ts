import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import type { Usage } from '../../engine/stream-types.js';
import { SgError } from '../../errors/index.js';
import type { ChatMessage } from '../chat.js';
import { countChatTokens, estimatedUsage, isCompleteUsage } from '../usage.js';
import { envNumber, envValue, type ProviderOptions, type ResolvedProviderOptions } from './options.js';
import {
  type InvokeOptions,
  type LLMResult,
  ModelProvider,
  type ProviderInit,
  type StreamPart,
  type TraceContext,
} from './provider.js';
import { formatResult, providerResponseError } from './results.js';
import { AttemptSignal, abortedError, retryAfterMs, traceHeaders, withPartial, withRetries } from './retry.js';

/**
 * OpenAI-compatible chat completions (llm.md section 3.4) on the official SDK, with its own retries off so
 * that section 3.7 governs: reaches OpenAI, vLLM, Ollama, llama.cpp's server, LM Studio, TGI's Messages API.
 */
export class OpenAIProvider extends ModelProvider {
  #client: OpenAI | undefined;
  private readonly opts: ResolvedProviderOptions;

  static envOptions(merged: ProviderOptions): ProviderOptions {
    return {
      apiKey: envValue(merged.apiKeyEnv ?? 'OPENAI_API_KEY'),
      baseURL: envValue('OPENAI_BASE_URL'),
      organization: envValue('OPENAI_ORG_ID'),
      project: envValue('OPENAI_PROJECT_ID'),
      timeoutMs: envNumber('OPENAI_TIMEOUT', 1000),
      maxRetries: envNumber('OPENAI_MAX_RETRIES'),
    };
  }

  constructor(init: ProviderInit) {
    super(init);
    this.opts = init.options as ResolvedProviderOptions;
    const { apiKey, apiKeyEnv, baseURL } = this.opts;
    if (apiKey === undefined && baseURL === undefined) {
      throw new SgError(
        'SG_ERR_PROVIDER_CREDENTIALS',
        `openai://${this.model} needs an API key: set ${apiKeyEnv ?? 'OPENAI_API_KEY'}, providerOptions.apiKeyEnv, or a baseURL for a local server`,
        { details: { modelUrl: `openai://${this.model}` } },
      );
    }
  }

  override get client(): OpenAI | undefined {
    return this.#client;
  }

  private get label(): string {
    return `openai://${this.model}`;
  }

  override load(): void {
    const o = this.opts;
    this.#client ??= new OpenAI({
      // local servers expect some key: 'EMPTY' is the convention
      apiKey: o.apiKey ?? 'EMPTY',
      baseURL: o.baseURL,
      organization: o.organization ?? null,
      project: o.project ?? null,
      maxRetries: 0,
      timeout: 2 ** 31 - 1,
      logLevel: 'off',
    });
  }

  override async invoke(messages: ChatMessage[], config: object = {}, options: InvokeOptions = {}): Promise<unknown> {
    const client = this.started();
    const body = { model: this.model, messages, ...this.defaultConfig, ...config };
    const response = await withRetries(this.label, this.opts, options.signal, async () => {
      const attempt = new AttemptSignal(options.signal, this.opts.timeoutMs);
      try {
        return (await client.chat.completions.create(body as never, {
          signal: attempt.signal,
          headers: traceHeaders(this.opts.headers, options.trace),
        })) as unknown;
      } catch (err) {
        throw this.attemptError(err, attempt, options.signal);
      } finally {
        attempt.dispose();
      }
    }).catch((err: unknown) => {
      throw withPartial(err, { answer: '', usage: estimatedUsage(countChatTokens(messages), '') });
    });
    if (options.responseFormat === 'full') return response;
    const answer = answerOf(response, this.label);
    const usage = (response as { usage?: unknown }).usage;
    const result: LLMResult = {
      answer,
      usage: isCompleteUsage(usage) ? usage : estimatedUsage(countChatTokens(messages), answer),
    };
    return formatResult(result, options.responseFormat);
  }

  override async *stream(
    messages: ChatMessage[],
    config: object = {},
    options: { signal?: AbortSignal; trace?: TraceContext } = {},
  ): AsyncGenerator<StreamPart, void, undefined> {
    const client = this.started();
    const body: Record<string, unknown> = {
      model: this.model,
      messages,
      ...this.defaultConfig,
      ...config,
      stream: true,
    };
    if (this.opts.includeStreamUsage) body.stream_options = { include_usage: true };
    let answer = '';
    let usage: Usage | undefined;
    let finishReason: string | undefined;
    let attempt: AttemptSignal | undefined;
    const partial = (): LLMResult => ({ answer, usage: usage ?? estimatedUsage(countChatTokens(messages), answer) });
    // retries only until the first chunk arrives (never once a delta was yielded)
    const stream = await withRetries(this.label, this.opts, options.signal, async () => {
      attempt?.dispose();
      attempt = new AttemptSignal(options.signal, this.opts.timeoutMs);
      try {
        return await client.chat.completions.create(body as never, {
          signal: attempt.signal,
          headers: traceHeaders(this.opts.headers, options.trace),
        });
      } catch (err) {
        throw this.attemptError(err, attempt, options.signal);
      }
    }).catch((err: unknown) => {
      attempt?.dispose();
      throw withPartial(err, partial());
    });
    const a = attempt!;
    try {
      // the first chunk is still under timeoutMs; then the idle limit runs between chunks
      for await (const chunk of stream as unknown as AsyncIterable<Record<string, unknown>>) {
        a.restart(this.opts.streamIdleTimeoutMs);
        const choices = chunk.choices as Array<Record<string, unknown>> | null | undefined;
        if (chunk.usage !== null && chunk.usage !== undefined && isCompleteUsage(chunk.usage)) usage = chunk.usage;
        const c = Array.isArray(choices) ? choices[0] : undefined;
        if (c === undefined) continue;
        if (typeof c.finish_reason === 'string') finishReason = c.finish_reason;
        const text = (c.delta as { content?: unknown } | undefined)?.content;
        if (typeof text === 'string' && text !== '') {
          answer += text;
          yield { type: 'delta', text };
        }
      }
      // the SDK ends a stream quietly when its signal fires: tell abort and idle timeout apart here
      if (a.signal.aborted) throw new Error('aborted');
    } catch (err) {
      if (options.signal?.aborted) throw abortedError(this.label, options.signal, partial());
      const e = this.attemptError(err, a, options.signal);
      e.details.partial = partial();
      throw e;
    } finally {
      a.dispose();
    }
    yield {
      type: 'done',
      answer,
      usage: usage ?? estimatedUsage(countChatTokens(messages), answer),
      finishReason: finishReason ?? 'stop',
    };
  }

  private started(): OpenAI {
    if (this.#client === undefined) this.load();
    return this.#client!;
  }

  /** An attempt's failure as the SgError of llm.md section 3.8. */
  private attemptError(err: unknown, attempt: AttemptSignal, signal: AbortSignal | undefined): SgError {
    if (signal?.aborted) return abortedError(this.label, signal);
    if (err instanceof SgError) return err;
    if (attempt.timedOut || err instanceof APIConnectionTimeoutError) {
      return new SgError('SG_ERR_PROVIDER_TIMEOUT', `${this.label}: no answer within the time limit`, {
        details: { modelUrl: this.label, timeoutMs: this.opts.timeoutMs },
      });
    }
    if (err instanceof APIError && typeof err.status === 'number') {
      const message = (err.error as { message?: unknown } | undefined)?.message ?? err.message;
      return new SgError(
        'SG_ERR_PROVIDER_HTTP',
        `${this.label} answered HTTP ${err.status}: ${String(message).slice(0, 200)}`,
        {
          details: {
            status: err.status,
            providerMessage: String(message).slice(0, 500),
            modelUrl: this.label,
            retryAfterMs: retryAfterMs(err.headers as Headers | undefined),
          },
          cause: err,
        },
      );
    }
    if (err instanceof APIConnectionError) {
      return new SgError('SG_ERR_PROVIDER_UNREACHABLE', `${this.label}: cannot reach the server: ${err.message}`, {
        details: { modelUrl: this.label, baseURL: this.opts.baseURL },
        cause: err,
      });
    }
    return providerResponseError(this.label, err);
  }
}

/** The answer of a ChatCompletion: exactly one choice; content if a string, else refusal, else ''. */
function answerOf(response: unknown, label: string): string {
  const choices = (response as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices) || choices.length !== 1) {
    throw providerResponseError(
      label,
      `expected exactly one choice, got ${Array.isArray(choices) ? choices.length : 'none'}`,
    );
  }
  const message = (choices[0] as { message?: { content?: unknown; refusal?: unknown } } | null)?.message;
  const content = message?.content;
  if (typeof content === 'string') return content;
  if (content !== null && content !== undefined)
    throw providerResponseError(label, 'message.content is neither a string nor null');
  return typeof message?.refusal === 'string' ? message.refusal : '';
}
