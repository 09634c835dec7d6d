// The demo's preprocessing step, shared by graph.mjs and the YAML version (examples/demo-yaml/graph.yaml).
import { SgError } from 'servegraph';

const MAX_CHARS = 2000;

/** Accepts `{ "text": "…" }`: trims it and folds whitespace; anything else is a 400 naming the field. */
export function preprocess(body) {
  const text = body !== null && typeof body === 'object' ? body.text : undefined;
  if (typeof text !== 'string' || text.trim() === '') {
    throw new SgError('SG_ERR_BAD_REQUEST', "expected a JSON object with 'text': a non-empty string", {
      details: { field: 'text' },
    });
  }
  if (text.length > MAX_CHARS) {
    throw new SgError('SG_ERR_BAD_REQUEST', `'text' is ${text.length} characters; at most ${MAX_CHARS} are accepted`, {
      details: { field: 'text', max: MAX_CHARS },
    });
  }
  return { text: text.replace(/\s+/g, ' ').trim() };
}
