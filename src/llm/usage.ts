import type { Usage } from '../engine/stream-types.js';
import { type ChatMessage, contentText } from './chat.js';
import { o200k } from './tokenizer.js';

/** Tokens of `text` in gpt-tokenizer's o200k_base encoding: the local count of llm.md section 4. */
export function countTokens(text: string): number {
  return text.length === 0 ? 0 : o200k().encode(text).length;
}

/** The chat formula of llm.md section 4: 3 + Σ (3 + n(role) + n(text) + (name ? 1 + n(name) : 0)). */
export function countChatTokens(messages: readonly ChatMessage[]): number {
  let n = 3;
  for (const m of messages) {
    n += 3 + countTokens(m.role) + countTokens(contentText(m.content));
    if (m.name !== undefined) n += 1 + countTokens(m.name);
  }
  return n;
}

/** A usage counted locally (marked `estimated`, llm.md section 4). */
export function estimatedUsage(promptTokens: number, answer: string): Usage {
  const completion = countTokens(answer);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
    estimated: true,
  };
}

/** Whether `u` holds numeric prompt and completion counts (a server's usage worth copying). */
export function isCompleteUsage(u: unknown): u is Usage {
  if (u === null || typeof u !== 'object') return false;
  const r = u as Record<string, unknown>;
  return Number.isInteger(r.prompt_tokens) && Number.isInteger(r.completion_tokens);
}
