import type { ChatMessage, LLMResult, ProviderOptions, StreamPart } from '../../src/index.js';
import { EmbeddedProvider } from '../../src/llm/embedded/embedded-provider.js';

/** Shared helpers of the embedded demo model tests (llm.md section 3.6). */

export type Full = LLMResult & { tokens: string[]; finishReason: string };

export async function embedded(options: ProviderOptions = {}, defaultConfig = {}): Promise<EmbeddedProvider> {
  const p = new EmbeddedProvider({ scheme: 'embedded', model: 'demo', options, defaultConfig });
  await p.load();
  return p;
}

export const user = (content: string): ChatMessage[] => [{ role: 'user', content }];

export async function full(p: EmbeddedProvider, messages: ChatMessage[], config: object = {}): Promise<Full> {
  return (await p.invoke(messages, config, { responseFormat: 'full' })) as Full;
}

export async function fullAsync(p: EmbeddedProvider, messages: ChatMessage[], config: object = {}): Promise<Full> {
  return (await p.invokeAsync(messages, config, { responseFormat: 'full' })) as Full;
}

/** Every part of a stream, with the deltas' texts and the done part apart. */
export async function collect(
  p: EmbeddedProvider,
  messages: ChatMessage[],
  config: object = {},
  signal?: AbortSignal,
): Promise<{ deltas: string[]; done: Extract<StreamPart, { type: 'done' }>; parts: StreamPart[] }> {
  const parts: StreamPart[] = [];
  for await (const part of p.stream(messages, config, { signal })) parts.push(part);
  const deltas = parts.flatMap((x) => (x.type === 'delta' ? [x.text] : []));
  const done = parts.at(-1) as Extract<StreamPart, { type: 'done' }>;
  return { deltas, done, parts };
}

/** Prompts with different last words, so different contexts. */
export const PROMPTS = [
  'Tell me about the garden',
  'How do I cook rice',
  'Explain the stock market',
  'What is a computer',
  'hello',
  'Describe a long train journey across the mountains',
  'Any advice for saving money?',
  'The soup needs more salt and pepper',
  'Why is the sky blue',
  'My laptop battery drains quickly',
];
