import type { ChatMessage } from '../../src/llm/chat.js';
import {
  type InvokeOptions,
  type LLMResult,
  ModelProvider,
  type ProviderInit,
  type StreamPart,
} from '../../src/llm/providers/provider.js';

/** Custom providers of the registry tests (also imported by 'module#Export' reference). */

export type Call = { method: string; messages: ChatMessage[]; config: object | undefined; options: unknown };

const usage = { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 };

function answer(messages: ChatMessage[]): string {
  return String(messages.at(-1)?.content ?? '').toUpperCase();
}

/** Implements only `invoke`. */
export class ShoutInvoke extends ModelProvider {
  readonly calls: Call[] = [];

  override async invoke(messages: ChatMessage[], config?: object, options: InvokeOptions = {}): Promise<unknown> {
    this.calls.push({ method: 'invoke', messages, config, options });
    const r: LLMResult = { answer: answer(messages), usage };
    return options.responseFormat === 'string' ? r.answer : r;
  }
}

/** Implements only `invokeAsync`. */
export class ShoutAsync extends ModelProvider {
  readonly calls: Call[] = [];

  override async invokeAsync(messages: ChatMessage[], config?: object, options: InvokeOptions = {}): Promise<unknown> {
    this.calls.push({ method: 'invokeAsync', messages, config, options });
    await new Promise((r) => setImmediate(r));
    const r: LLMResult = { answer: answer(messages), usage };
    return options.responseFormat === 'string' ? r.answer : r;
  }
}

/** Implements `invoke` and `stream`. */
export class ShoutStream extends ShoutInvoke {
  override async *stream(messages: ChatMessage[]): AsyncGenerator<StreamPart, void, undefined> {
    const text = answer(messages);
    for (const ch of text) yield { type: 'delta', text: ch };
    yield { type: 'done', answer: text, usage, finishReason: 'stop' };
  }
}

/** A subclass of a subclass: inherits `invoke`. */
export class ShoutChild extends ShoutInvoke {}

/** Keeps the init it was given. */
export class InitKeeper extends ShoutInvoke {
  static last: ProviderInit | undefined;

  constructor(init: ProviderInit) {
    super(init);
    InitKeeper.last = init;
  }
}

/** Extends ModelProvider but implements neither invoke nor invokeAsync. */
export class Silent extends ModelProvider {}

/** Not a ModelProvider at all, though it has an `invoke`. */
export class Impostor {
  async invoke(): Promise<string> {
    return 'no';
  }
}
