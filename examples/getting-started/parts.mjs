// The parts of the getting-started graph: a step handler and a model of your own.
import { Model, SgError } from 'servegraph';

/** A step handler: checks and trims `{ "text": "…" }`. */
export function clean(body) {
  if (typeof body?.text !== 'string' || body.text.trim() === '') {
    throw new SgError('SG_ERR_BAD_REQUEST', "expected 'text': a non-empty string", { details: { field: 'text' } });
  }
  return { text: body.text.trim() };
}

/** A model: anything with predict(input, ctx). This one flags urgent tickets. */
export class Urgency extends Model {
  predict(text) {
    const hits = ['now', 'urgent', 'broken', 'down', 'asap'].filter((w) => text.toLowerCase().includes(w));
    return { urgent: hits.length > 0, hits };
  }
}
