import type { Usage } from '../../engine/stream-types.js';
import { SgError } from '../../errors/index.js';
import type { ChatMessage, FinishReason } from '../chat.js';
import type { ProviderOptions } from './options.js';

/** What LLModel returns and providers answer by default: `{answer, usage}` (llm.md section 2.3). */
export type LLMResult = { answer: string; usage: Usage };

/** One part of a provider's stream: text deltas, then exactly one `done`. */
export type StreamPart =
  | { type: 'delta'; text: string }
  | { type: 'done'; answer: string; usage: Usage; finishReason: FinishReason };

/** The W3C trace context a request carried (http.md), forwarded as headers on every provider call. */
export type TraceContext = { traceparent: string; tracestate?: string };

export interface InvokeOptions {
  signal?: AbortSignal;
  /** 'usage' (default): LLMResult; 'string': the answer text; 'full': the raw provider response */
  responseFormat?: 'string' | 'usage' | 'full';
  trace?: TraceContext;
}

/** What servegraph passes to a provider's constructor (llm.md section 3.9). */
export interface ProviderInit {
  scheme: string;
  /** the model id: everything after '://' */
  model: string;
  options: ProviderOptions;
  defaultConfig: Record<string, unknown>;
}

const BRAND = Symbol.for('servegraph.ModelProvider');

/**
 * A model provider behind one interface (llm.md section 3.1). A subclass implements `invoke` or
 * `invokeAsync` (the other then calls it) and, to stream, `stream`.
 */
export abstract class ModelProvider {
  readonly scheme: string;
  readonly model: string;
  readonly options: ProviderOptions;
  readonly defaultConfig: Record<string, unknown>;

  constructor(init: ProviderInit) {
    this.scheme = init.scheme;
    this.model = init.model;
    this.options = Object.freeze({ ...init.options });
    this.defaultConfig = Object.freeze({ ...init.defaultConfig });
    for (const k of ['scheme', 'model', 'options', 'defaultConfig'])
      Object.defineProperty(this, k, { writable: false, configurable: false, enumerable: true });
  }

  /** true exactly when the subclass implements `stream` */
  get supportsStreaming(): boolean {
    return overrides(this, 'stream');
  }

  /** the SDK client, for calls the interface lacks */
  get client(): unknown {
    return undefined;
  }

  /** Clients, tokenizers, tables; idempotent. */
  load(): void | Promise<void> {}

  invoke(messages: ChatMessage[], config?: object, options?: InvokeOptions): Promise<unknown> {
    if (!overrides(this, 'invokeAsync')) return Promise.reject(missing(this, 'invoke or invokeAsync'));
    return this.invokeAsync(messages, config, options);
  }

  invokeAsync(messages: ChatMessage[], config?: object, options?: InvokeOptions): Promise<unknown> {
    if (!overrides(this, 'invoke')) return Promise.reject(missing(this, 'invoke or invokeAsync'));
    return Promise.resolve().then(() => this.invoke(messages, config, options));
  }

  // biome-ignore lint/correctness/useYield: the base stream only refuses
  async *stream(
    messages: ChatMessage[],
    config?: object,
    options?: { signal?: AbortSignal; trace?: TraceContext },
  ): AsyncGenerator<StreamPart, void, undefined> {
    void messages;
    void config;
    void options;
    throw new SgError('SG_ERR_PROVIDER_CAPABILITY', `provider ${this.scheme}://${this.model} cannot stream`, {
      details: { scheme: this.scheme },
    });
  }

  close(): void | Promise<void> {}
}

Object.defineProperty(ModelProvider.prototype, BRAND, { value: true });

/** Whether the object's class replaced ModelProvider's method `name`. */
function overrides(p: object, name: 'invoke' | 'invokeAsync' | 'stream'): boolean {
  return (p as Record<string, unknown>)[name] !== ModelProvider.prototype[name];
}

function missing(p: ModelProvider, what: string): SgError {
  return new SgError('SG_ERR_INVALID_CLASS', `provider for ${p.scheme}:// implements neither ${what}`, {
    details: { scheme: p.scheme },
  });
}

/** Whether `cls` is a class extending ModelProvider (any copy of servegraph) that implements invoke or invokeAsync. */
export function isProviderClass(cls: unknown): cls is new (init: ProviderInit) => ModelProvider {
  if (typeof cls !== 'function') return false;
  const proto = cls.prototype as Record<symbol, unknown> | undefined;
  if (proto === undefined || proto === null || proto[BRAND] !== true) return false;
  // invoke or invokeAsync defined on a class between cls and the base class
  let p: object | null = proto;
  while (p !== null && !Object.hasOwn(p, BRAND)) {
    if (Object.hasOwn(p, 'invoke') || Object.hasOwn(p, 'invokeAsync')) return true;
    p = Object.getPrototypeOf(p);
  }
  return false;
}
