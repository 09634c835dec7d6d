import type { EventInit } from '../engine/event.js';
import { describe, SgError } from '../errors/index.js';
import { newUuid } from '../util/uuid.js';
import { traceMetaOf } from './trace.js';

export type TestOptions = {
  method?: string;
  headers?: Record<string, string>;
  /** the event id (default: a new UUID) */
  id?: string;
};

const EMPTY_QUERY: Readonly<Record<string, string | string[]>> = Object.freeze({});
const EMPTY_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const TEST_OPTIONS = new Set(['method', 'headers', 'id']);
/** testStream() also takes `fullEvent` (streaming.md, "The mock server") */
const STREAM_OPTIONS = new Set([...TEST_OPTIONS, 'fullEvent']);

function invalid(field: string, expected: string, got: unknown): SgError {
  return new SgError('SG_ERR_INVALID_OPTION', `test(): ${field} must be ${expected}, got ${describe(got)}`, {
    details: { field },
  });
}

/** The event of a mock-server request (graph.md sections 6 and 10). */
export function mockEventInit(path: unknown, body: unknown, options: unknown, stream = false): EventInit {
  const p = path === undefined || path === '' ? '/' : path;
  if (typeof p !== 'string' || !p.startsWith('/')) throw invalid('path', "a string starting with '/'", path);
  const o = (options ?? {}) as TestOptions;
  if (typeof o !== 'object' || Array.isArray(o)) throw invalid('options', 'an object', options);
  const allowed = stream ? STREAM_OPTIONS : TEST_OPTIONS;
  for (const k of Object.keys(o))
    if (!allowed.has(k)) throw invalid(k, `one of ${[...allowed].join(', ')} (unknown option)`, k);
  const fullEvent = (o as { fullEvent?: unknown }).fullEvent;
  if (fullEvent !== undefined && typeof fullEvent !== 'boolean') throw invalid('fullEvent', 'a boolean', fullEvent);
  if (o.method !== undefined && (typeof o.method !== 'string' || !/^[A-Za-z-]+$/.test(o.method)))
    throw invalid('method', 'an HTTP method name', o.method);
  if (o.id !== undefined && (typeof o.id !== 'string' || o.id === '')) throw invalid('id', 'a non-empty string', o.id);
  let headers = EMPTY_HEADERS;
  if (o.headers !== undefined) {
    if (o.headers === null || typeof o.headers !== 'object' || Array.isArray(o.headers))
      throw invalid('headers', 'an object of strings', o.headers);
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.headers)) {
      if (typeof v !== 'string') throw invalid(`headers.${k}`, 'a string', v);
      h[k.toLowerCase()] = v;
    }
    headers = Object.freeze(h);
  }
  return {
    id: o.id ?? newUuid(),
    body,
    path: p,
    method: o.method?.toUpperCase() ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    query: EMPTY_QUERY,
    contentType: '',
    timestamp: Date.now(),
    // test headers stand for a request's: a traceparent among them reaches providers as over HTTP
    meta: headers === EMPTY_HEADERS ? undefined : traceMetaOf(headers),
  };
}
