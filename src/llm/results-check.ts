import type { Usage } from '../engine/stream-types.js';
import { describe, SgError } from '../errors/index.js';
import type { ChatMessage } from './chat.js';
import type { LLMResult } from './providers/provider.js';
import { countChatTokens, estimatedUsage, isCompleteUsage } from './usage.js';

/**
 * A provider's answer checked (model output is an entry point too): `{answer, usage}` with a string answer and
 * integer counts. A bare string (a custom provider answering 'string') gets a locally counted usage.
 */
export function checkResult(raw: unknown, endpoint: string, messages?: ChatMessage[]): LLMResult {
  if (typeof raw === 'string' && messages !== undefined)
    return { answer: raw, usage: estimatedUsage(countChatTokens(messages), raw) };
  const r = raw as { answer?: unknown; usage?: unknown } | null;
  if (r === null || typeof r !== 'object' || typeof r.answer !== 'string' || !isCompleteUsage(r.usage)) {
    throw new SgError(
      'SG_ERR_PROVIDER_RESPONSE',
      `endpoint '${endpoint}': the provider returned ${describe(raw)}, expected {answer: string, usage}`,
      {
        endpoint,
        details: { expected: '{answer, usage}' },
      },
    );
  }
  const usage = r.usage as Usage;
  if (!Number.isInteger(usage.total_tokens))
    return { answer: r.answer, usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } };
  return { answer: r.answer, usage };
}

/** The usages of a batch's items added up (estimated when any was). */
export function sumUsage(usages: readonly Usage[]): Usage | undefined {
  if (usages.length === 0) return undefined;
  const out: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  for (const u of usages) {
    out.prompt_tokens += u.prompt_tokens;
    out.completion_tokens += u.completion_tokens;
    out.total_tokens += u.total_tokens;
    if (u.estimated === true) out.estimated = true;
  }
  return out;
}
