import { TextDecoder } from 'node:util';
import { SgError } from '../../errors/index.js';
import { parseJsonBody, parseJsonIfValid } from './json.js';
import { setOwn } from './records.js';

/** A `Content-Type` header split into its media type (lower case, `''` when absent) and its charset. */
export type MediaType = { readonly type: string; readonly charset: string | undefined; readonly valid: boolean };

const TOKEN = /^[\w!#$%&'*+.^`|~-]+$/;
const CHARSET = /(?:^|;)\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i;

export function parseMediaType(header: string | undefined): MediaType {
  if (header === undefined) return { type: '', charset: undefined, valid: true };
  const semi = header.indexOf(';');
  const type = (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase();
  const slash = type.indexOf('/');
  const valid = slash > 0 && TOKEN.test(type.slice(0, slash)) && TOKEN.test(type.slice(slash + 1));
  const m = semi < 0 ? null : CHARSET.exec(header.slice(semi));
  const charset = m === null ? undefined : (m[1] ?? m[2]).toLowerCase() || undefined;
  return { type, charset, valid };
}

function isJsonType(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * The event body of a request body (http.md, "From request to event"): JSON, text, form fields, or the bytes.
 * An empty body is `undefined` whatever the content type. `body` is the bytes, or the text already decoded
 * as UTF-8 (fastify reads a plain `application/json` body as a string, see lifecycle.ts).
 */
export function decodeBody(body: Buffer | string, media: MediaType): unknown {
  if (body.length === 0) return undefined;
  const { type } = media;
  if (typeof body === 'string') {
    const text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
    return isJsonType(type) ? parseJsonBody(text) : text;
  }
  const bytes = body;
  if (isJsonType(type)) return parseJsonBody(decodeText(bytes, media.charset));
  if (type.startsWith('text/') || type === 'application/x-ndjson') return decodeText(bytes, media.charset);
  if (type === 'application/x-www-form-urlencoded') return parseForm(decodeText(bytes, media.charset));
  // MLRun's rule: without a content type, JSON when it parses, else the text
  if (type === '') return parseJsonIfValid(decodeText(bytes, undefined), (text) => text);
  return bytes;
}

/** decoders by charset label: made once (TextDecoder.decode without `stream` keeps no state between calls) */
const decoders = new Map<string, TextDecoder>();

function decodeText(bytes: Buffer, charset: string | undefined): string {
  const label = charset ?? 'utf-8';
  if (label === 'utf-8' || label === 'utf8') {
    // Buffer's own UTF-8 decoding is several times faster than TextDecoder's for small bodies; the byte-order
    // mark it keeps is dropped as TextDecoder would
    const text = bytes.toString('utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }
  let decoder = decoders.get(label);
  if (decoder !== undefined) return decoder.decode(bytes);
  try {
    // TextDecoder drops a leading byte-order mark, which JSON.parse would refuse
    decoder = new TextDecoder(label);
    if (decoders.size < 64) decoders.set(label, decoder);
  } catch (err) {
    throw new SgError(
      'SG_ERR_BAD_REQUEST',
      `request body has charset '${charset}', which is not supported: use utf-8 or another WHATWG encoding label`,
      { details: { charset }, cause: err },
    );
  }
  return decoder.decode(bytes);
}

/** `a=1&b=2&a=3` as `{ a: ['1', '3'], b: '2' }` (a repeated name gives an array). */
export function parseForm(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    const prev = Object.hasOwn(out, name) ? out[name] : undefined;
    if (Array.isArray(prev)) prev.push(value);
    else setOwn(out, name, prev === undefined ? value : [prev, value]);
  }
  return out;
}
