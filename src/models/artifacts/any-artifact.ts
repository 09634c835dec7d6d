import { LLMPromptArtifact } from '../../llm/prompt-artifact.js';
import type { Artifact } from '../types.js';
import { ModelArtifact } from './model-artifact.js';

/** artifact → its wire form; artifacts are immutable, so each is serialised once */
const wire = new WeakMap<object, Record<string, unknown>>();

/**
 * The form an artifact crosses to a worker thread or process in: its JSON form with the prompt template
 * read and an in-code apiKey kept. Made once per artifact; a structured clone copies it on each send.
 */
export function wireArtifact(a: Artifact): Record<string, unknown> {
  let json = wire.get(a);
  if (json === undefined) {
    json = (a as { _wireJSON(): Record<string, unknown> })._wireJSON();
    wire.set(a, json);
  }
  return json;
}

/** Rebuild an artifact from its wire form, by its `kind`. */
export function artifactFromWire(json: Record<string, unknown>): Artifact {
  return json.kind === 'llm-prompt'
    ? LLMPromptArtifact.fromJSON(json, { wire: true })
    : ModelArtifact.fromJSON(json, { wire: true });
}
