import type { IncomingMessage } from 'node:http';
import type { EventInit } from '../../engine/event.js';
import { newUuid } from '../../util/uuid.js';
import { traceMetaOf } from '../trace.js';
import { parseForm } from './body.js';
import { setOwn } from './records.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The event id: the `X-Request-Id` header when it is a safe id, else a new UUID (http.md). */
export function requestIdOf(raw: IncomingMessage): string {
  const header = raw.headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : newUuid();
}

/** The URL path as sent, percent-encoding kept, without the query string. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  const target = q < 0 ? url : url.slice(0, q);
  if (target.startsWith('/')) return target;
  // absolute-form request target (`GET http://host/x`): keep its path only
  try {
    return new URL(target).pathname;
  } catch {
    return '/';
  }
}

/**
 * The URL the router matches: a path with a malformed percent-encoding (`/%zz`) is still the graph's, so its
 * stray `%` are escaped for the router only (the event keeps the path as sent).
 */
export function routableUrl(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!path.includes('%')) return url;
  try {
    decodeURIComponent(path);
    return url;
  } catch {
    return path.replaceAll('%', '%25') + (q < 0 ? '' : url.slice(q));
  }
}

const NO_QUERY: Readonly<Record<string, string | string[]>> = Object.freeze({});

/** The parsed query string, frozen; a repeated name gives an array. */
export function queryOf(url: string): Readonly<Record<string, string | string[]>> {
  const q = url.indexOf('?');
  return q < 0 ? NO_QUERY : Object.freeze(parseForm(url.slice(q + 1)));
}

/** Names a plain object inherits (`constructor`, `__proto__`, …): such header names take the careful path. */
const INHERITED = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Request headers with lower-case names; a repeated header's values joined with ', ' (from the raw list). */
export function headersOf(raw: IncomingMessage): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  const list = raw.rawHeaders;
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i].toLowerCase();
    const value = list[i + 1];
    if (INHERITED.has(name)) {
      const prev = Object.hasOwn(out, name) ? out[name] : undefined;
      setOwn(out, name, prev === undefined ? value : `${prev}, ${value}`);
      continue;
    }
    const prev = out[name];
    out[name] = prev === undefined ? value : `${prev}, ${value}`;
  }
  return Object.freeze(out);
}

/**
 * The event of a request; `url` is the request target as sent (before any routing rewrite). Its headers are
 * made on first read: most graphs never read them. The trace headers are read from Node's own parse, which
 * joins a repeated one with ', ' as `headersOf` does.
 */
export function eventInitOf(
  raw: IncomingMessage,
  url: string,
  id: string,
  body: unknown,
  contentType: string,
  arrivedAt: number,
): EventInit {
  let headers: Readonly<Record<string, string>> | undefined;
  const rawHeaders = raw.headers;
  return {
    id,
    body,
    path: pathOf(url),
    // Node's parser gives methods in upper case
    method: raw.method ?? 'GET',
    // one object for the event and all its copies
    headers: () => (headers ??= headersOf(raw)),
    query: queryOf(url),
    contentType,
    timestamp: arrivedAt,
    meta: rawHeaders.traceparent === undefined ? undefined : traceMetaOf(rawHeaders as Record<string, string>),
  };
}
