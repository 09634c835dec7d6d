import { SgError } from '../../errors/index.js';
import { type ChatMessage, contentText } from '../chat.js';
import type { ResolvedProviderOptions } from '../providers/options.js';
import {
  type InvokeOptions,
  type LLMResult,
  ModelProvider,
  type ProviderInit,
  type StreamPart,
} from '../providers/provider.js';
import { formatResult } from '../providers/results.js';
import { abortedError } from '../providers/retry.js';
import { countChatTokens } from '../usage.js';
import { type GenerateConfig, generate } from './generate.js';
import { corpusTables, type TrigramTables } from './trigram-model.js';

const FAIL_MARK = '[[sg:fail]]';

/**
 * The embedded demo model (llm.md section 3.6): a token trigram model over the bundled corpus. No network,
 * no key, no downloaded weights. It continues text in its corpus's style, drawn towards the prompt's
 * words; it knows nothing and answers no questions.
 */
export class EmbeddedProvider extends ModelProvider {
  private tables: TrigramTables | undefined;
  private readonly tokenDelayMs: number;

  constructor(init: ProviderInit) {
    super(init);
    this.tokenDelayMs = (init.options as ResolvedProviderOptions).tokenDelayMs ?? 0;
  }

  private get label(): string {
    return `embedded://${this.model}`;
  }

  override async load(): Promise<void> {
    this.tables ??= await corpusTables();
  }

  /** One run, no pauses: for thread and process mechanisms. */
  override async invoke(messages: ChatMessage[], config: object = {}, options: InvokeOptions = {}): Promise<unknown> {
    const tables = await this.ready(messages);
    const tokens: string[] = [];
    const gen = generate(tables, messages, this.merged(config));
    let r = gen.next();
    while (!r.done) {
      if (options.signal?.aborted) throw abortedError(this.label, options.signal, result(messages, tokens));
      tokens.push(r.value);
      r = gen.next();
    }
    return this.answer(messages, tokens, r.value, options.responseFormat);
  }

  /** Yields to the event loop between tokens (asyncio, naive). */
  override async invokeAsync(
    messages: ChatMessage[],
    config: object = {},
    options: InvokeOptions = {},
  ): Promise<unknown> {
    const tokens: string[] = [];
    let finishReason = 'stop';
    for await (const part of this.stream(messages, config, options)) {
      if (part.type === 'delta') tokens.push(part.text);
      else finishReason = part.finishReason;
    }
    return this.answer(messages, tokens, finishReason, options.responseFormat);
  }

  override async *stream(
    messages: ChatMessage[],
    config: object = {},
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<StreamPart, void, undefined> {
    const tables = await this.ready(messages);
    const tokens: string[] = [];
    const gen = generate(tables, messages, this.merged(config));
    let r = gen.next();
    while (!r.done) {
      await pause(this.tokenDelayMs, options.signal);
      if (options.signal?.aborted) throw abortedError(this.label, options.signal, result(messages, tokens));
      tokens.push(r.value);
      yield { type: 'delta', text: r.value };
      r = gen.next();
    }
    const { answer, usage } = result(messages, tokens);
    yield { type: 'done', answer, usage, finishReason: r.value };
  }

  private merged(config: object): GenerateConfig {
    return { ...this.defaultConfig, ...config } as GenerateConfig;
  }

  private async ready(messages: ChatMessage[]): Promise<TrigramTables> {
    // a demo's way to show errors offline: fails at once, never retried
    if (messages.some((m) => contentText(m.content).includes(FAIL_MARK))) {
      throw new SgError(
        'SG_ERR_PROVIDER_HTTP',
        `${this.label} answered HTTP 500: the message asked to fail (${FAIL_MARK})`,
        {
          details: {
            status: 500,
            attempts: 1,
            providerMessage: `failure requested with ${FAIL_MARK}`,
            modelUrl: this.label,
          },
        },
      );
    }
    await this.load();
    return this.tables!;
  }

  private answer(
    messages: ChatMessage[],
    tokens: string[],
    finishReason: string,
    format: InvokeOptions['responseFormat'],
  ): unknown {
    const r = result(messages, tokens);
    return format === 'full' ? { ...r, tokens, finishReason } : formatResult(r, format);
  }
}

/** Usage is exact by construction: completion = the tokens made, prompt by the chat formula. */
function result(messages: ChatMessage[], tokens: string[]): LLMResult {
  const prompt = countChatTokens(messages);
  return {
    answer: tokens.join(''),
    usage: { prompt_tokens: prompt, completion_tokens: tokens.length, total_tokens: prompt + tokens.length },
  };
}

/** Between two tokens: the event loop gets a turn (setImmediate), or the token delay passes. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0) {
      setImmediate(resolve);
      return;
    }
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
