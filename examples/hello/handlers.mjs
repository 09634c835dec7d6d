// Handlers of the hello graph: plain functions, referenced from graph.yaml as './handlers.mjs#name'.
import { SgError } from 'servegraph';

/** Accepts { text } and trims it; anything else is a bad request. */
export function clean(body) {
  if (body === null || typeof body !== 'object' || typeof body.text !== 'string') {
    throw new SgError('SG_ERR_BAD_REQUEST', "expected a JSON object with a string field 'text'", {
      details: { field: 'text' },
    });
  }
  return { ...body, text: body.text.trim() };
}

/** Word and character counts of the text. */
export function stats(text) {
  const words = text.split(/\s+/).filter(Boolean);
  return {
    words: words.length,
    chars: text.length,
    longest: words.reduce((a, w) => (w.length > a.length ? w : a), ''),
  };
}

/** Upper-cases the text: the "shout" branch. */
export function shout(body) {
  return { ...body, text: body.text.toUpperCase() };
}

/** Routes long texts to 'summarize' and short ones to 'shout'. */
export function route(body) {
  return body.text.length > 80 ? 'summarize' : 'shout';
}

/** Keeps the first sentence of a long text. */
export function summarize(body) {
  const first = body.text.split(/(?<=[.!?])\s/)[0];
  return { ...body, text: first, summarized: true };
}

/** The error handler of 'clean': answers with the reason instead of failing. */
export function badRequest(event) {
  return { error: event.error.message, code: event.error.code };
}

/** Passes the body on unchanged. */
export function identity(body) {
  return body;
}
