import { describe, SgError } from '../errors/index.js';
import { valueAtPath } from '../util/dotted-path.js';
import type { ChatMessage } from './chat.js';
import { inputMessages } from './messages.js';
import type { LLMPromptArtifact, PromptLegendEntry } from './prompt-artifact.js';
import { parseTemplate, placeholderNames, renderValue, type TemplatePart } from './template.js';

export type MissingPlaceholder = 'error' | 'keep' | 'empty';

/** What the default enrichment needs besides the input (llm.md section 2.2). */
export type EnrichSettings = {
  endpoint: string;
  step?: string;
  onMissing: MissingPlaceholder;
  requestConfig: readonly string[];
  /** the model artifact's defaultConfig (for a shared model, the shared one's) */
  defaultConfig: Readonly<Record<string, unknown>>;
  /** the model's inputPath, named in errors */
  inputPath?: string;
  warn(msg: string): void;
};

export type Enriched = { messages: ChatMessage[]; invocationConfig: Record<string, unknown> };

type Compiled = { role: string; name?: string; parts: TemplatePart[] }[];
/** parsed templates, kept per artifact (an artifact's template never changes once read) */
const compiled = new WeakMap<object, Compiled>();

function compile(artifact: LLMPromptArtifact): Compiled | undefined {
  const template = artifact.promptTemplate;
  if (template === undefined) return undefined;
  let c = compiled.get(artifact);
  if (c === undefined) {
    c = template.map((m) => ({ role: m.role, name: m.name, parts: parseTemplate(m.content as string) }));
    compiled.set(artifact, c);
  }
  return c;
}

/** The placeholders of an artifact's template, each once. */
export function templatePlaceholders(artifact: LLMPromptArtifact): string[] {
  return placeholderNames((compile(artifact) ?? []).flatMap((m) => m.parts));
}

/** The merged generation settings: defaultConfig < prompt's invocationConfig < listed request keys; no `stream`. */
export function mergedConfig(
  artifact: LLMPromptArtifact | undefined,
  input: unknown,
  s: EnrichSettings,
): Record<string, unknown> {
  const config: Record<string, unknown> = { ...s.defaultConfig, ...artifact?.invocationConfig };
  if (s.requestConfig.length > 0 && input !== null && typeof input === 'object' && !Array.isArray(input)) {
    for (const k of s.requestConfig) {
      const v = (input as Record<string, unknown>)[k];
      if (v !== undefined && Object.hasOwn(input, k)) config[k] = v;
    }
  }
  delete config.stream;
  return config;
}

/** The default `enrichPrompt`: fill the template from `input`, or read `input.messages` without one. */
export function enrich(input: unknown, artifact: LLMPromptArtifact | undefined, s: EnrichSettings): Enriched {
  const invocationConfig = mergedConfig(artifact, input, s);
  const template = artifact === undefined ? undefined : compile(artifact);
  if (template === undefined) return { messages: inputMessages(input, s.endpoint, s.step), invocationConfig };
  const names = placeholderNames(template.flatMap((m) => m.parts));
  const values = new Map<string, string>();
  if (names.length > 0) {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      const at = s.inputPath === undefined ? 'as the input (the body)' : `at inputPath '${s.inputPath}'`;
      throw new SgError(
        'SG_ERR_LLM_INPUT',
        `endpoint '${s.endpoint}': expected an object ${at}, got ${describe(input)}`,
        {
          step: s.step,
          endpoint: s.endpoint,
          details: { expected: 'an object', placeholders: names },
        },
      );
    }
    const legend: Readonly<Record<string, Readonly<PromptLegendEntry>>> = artifact!.promptLegend;
    for (const name of names) {
      const entry = Object.hasOwn(legend, name) ? legend[name] : undefined;
      const field = entry?.field ?? name;
      const v = valueAtPath(input, field);
      if (v !== undefined && v !== null) {
        values.set(name, renderValue(v));
        continue;
      }
      if (s.onMissing === 'error') {
        const why = entry?.description ? ` (${entry.description})` : '';
        throw new SgError(
          'SG_ERR_PROMPT_PLACEHOLDER_MISSING',
          `endpoint '${s.endpoint}': the prompt needs '${field}'${why} for placeholder {${name}}`,
          {
            step: s.step,
            endpoint: s.endpoint,
            details: { placeholder: name, field, description: entry?.description ?? null },
          },
        );
      }
      if (s.onMissing === 'keep')
        s.warn(`endpoint '${s.endpoint}': no value for placeholder {${name}} (field '${field}'): kept as written`);
      else values.set(name, '');
    }
  }
  const messages = template.map((m) => {
    // inserted text is never scanned again: a value holding {x} stays literal
    let content = '';
    for (const p of m.parts) content += typeof p === 'string' ? p : (values.get(p.name) ?? `{${p.name}}`);
    const out: ChatMessage = { role: m.role, content };
    if (m.name !== undefined) out.name = m.name;
    return out;
  });
  return { messages, invocationConfig };
}
