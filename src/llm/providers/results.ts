import { errorText, SgError } from '../../errors/index.js';
import type { LLMResult } from './provider.js';

/** SG_ERR_PROVIDER_RESPONSE: the provider's answer cannot be read (llm.md section 3.8). */
export function providerResponseError(label: string, why: unknown): SgError {
  const text = typeof why === 'string' ? why : errorText(why);
  return new SgError('SG_ERR_PROVIDER_RESPONSE', `${label}: unreadable response: ${text.slice(0, 300)}`, {
    details: { modelUrl: label },
    cause: typeof why === 'string' ? undefined : why,
  });
}

/** The answer in the asked format: `{answer, usage}` ('usage', the default) or the text ('string'). */
export function formatResult(r: LLMResult, format: 'string' | 'usage' | 'full' | undefined): LLMResult | string {
  return format === 'string' ? r.answer : r;
}
