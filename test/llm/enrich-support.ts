import { type ChatMessage, LLMPromptArtifact, type PromptLegendEntry } from '../../src/index.js';
import type { EnrichSettings } from '../../src/llm/enrich.js';

/** Shared helpers of the enrichment tests (llm.md section 2.2). */

/** Settings for enrich(), recording warnings. */
export function settings(over: Partial<EnrichSettings> = {}): EnrichSettings & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    endpoint: 'finance',
    onMissing: 'error',
    requestConfig: [],
    defaultConfig: {},
    warn: (m) => warnings.push(m),
    ...over,
    warnings,
  };
}

/** A prompt artifact over the embedded model with this template, legend and config. */
export function prompt(
  template: string | ChatMessage[] | undefined,
  legend: Record<string, PromptLegendEntry> = {},
  invocationConfig: Record<string, unknown> = {},
): LLMPromptArtifact {
  return new LLMPromptArtifact({
    key: 'p',
    modelUrl: 'embedded://demo',
    ...(template === undefined ? {} : { promptTemplate: template }),
    promptLegend: legend,
    invocationConfig,
  });
}

/** Freeze `v` and everything inside it, so that any mutation throws (ESM code is strict). */
export function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Reflect.ownKeys(v)) deepFreeze((v as Record<PropertyKey, unknown>)[k]);
  }
  return v;
}

/** The content of the only message of an enriched one-message template. */
export function only(messages: ChatMessage[]): string {
  if (messages.length !== 1) throw new Error(`expected one message, got ${messages.length}`);
  return messages[0].content as string;
}
