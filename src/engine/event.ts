import { describe, SgError } from '../errors/index.js';
import type { EventOwner } from './owner.js';

/** A group key of a Batch step (batching.md). */
export type BatchKey = string | number | boolean | null | undefined;
/** The `batch` field of a batch event (batching.md). */
export type BatchInfo = { readonly size: number; readonly key: BatchKey; readonly ids: readonly string[] };
/** The `stream` field of chunk events and end markers (streaming.md). */
export type StreamInfo = { readonly id: string; readonly seq: number; readonly last: boolean; readonly step: string };

/** @internal What a trigger gives to make an event. */
export type EventInit = {
  id: string;
  body: unknown;
  path: string;
  method: string;
  /** the headers, or a function that makes them (called once, on first read: most events never read them) */
  headers: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>);
  query: Readonly<Record<string, string | string[]>>;
  contentType: string;
  timestamp: number;
  meta?: Record<string, unknown>;
  batch?: BatchInfo;
  stream?: StreamInfo;
};

const EMPTY = Object.freeze({});

/**
 * One request's data moving through the graph (graph.md section 6). `body` and `meta` are writable; the
 * other fields are read-only. Every copy belongs to the same request (the same reply slot).
 */
export class Event {
  readonly id: string;
  body: unknown;
  readonly path: string;
  readonly method: string;
  /** @internal the headers, or what makes them on first read (`headers`) */
  _headers: EventInit['headers'];
  readonly query: Readonly<Record<string, string | string[]>>;
  readonly contentType: string;
  readonly batch: BatchInfo | undefined;
  readonly stream: StreamInfo | undefined;
  readonly error: SgError | undefined;
  readonly originStep: string | undefined;
  /** @internal the request (or batch of requests) this event answers */
  _owner: EventOwner;
  /** @internal milliseconds since the epoch; `timestamp` is made from it on first read */
  readonly _ts: number;
  private _date: Date | undefined;
  /** @internal created on first use */
  _meta: Record<string, unknown> | undefined;
  /** @internal step timing (engine.ts): the step node this event was handed to and not yet timed at, and when */
  _at: object | undefined;
  /** @internal performance.now() when the event was handed to `_at` */
  _t0: number;

  /** @internal events are made by triggers and the engine, never by user code (use copy()) */
  constructor(init: EventInit, owner: EventOwner) {
    this.id = init.id;
    this.body = init.body;
    this.path = init.path;
    this.method = init.method;
    this._headers = init.headers;
    this.query = init.query;
    this.contentType = init.contentType;
    this._ts = init.timestamp;
    this._meta = init.meta;
    this.batch = init.batch;
    this.stream = init.stream;
    this.error = undefined;
    this.originStep = undefined;
    this._owner = owner;
    this._date = undefined;
    this._at = undefined;
    this._t0 = 0;
  }

  /** The request headers, lower-case names (graph.md section 6). */
  get headers(): Readonly<Record<string, string>> {
    const h = this._headers;
    if (typeof h !== 'function') return h;
    const made = h();
    this._headers = made;
    return made;
  }

  /** When the event entered the graph. */
  get timestamp(): Date {
    if (this._date === undefined) this._date = new Date(this._ts);
    return this._date;
  }

  /** Free annotations for steps; created on first use (most events never need one). */
  get meta(): Record<string, unknown> {
    if (this._meta === undefined) this._meta = {};
    return this._meta;
  }

  set meta(value: Record<string, unknown>) {
    this._meta = value;
  }

  /**
   * A new event of the same request: same id, path, method, headers, query, contentType and timestamp;
   * `body` and `meta` deep-copied with structuredClone, or `body` replaced by `changes.body`.
   */
  copy(changes?: { body?: unknown }): Event {
    const replace = changes !== undefined && Object.hasOwn(changes, 'body');
    const ev = new Event(
      {
        id: this.id,
        body: replace
          ? changes.body
          : this.batch === undefined
            ? cloneOrThrow(this.body, 'body')
            : copyBatchBody(this.body),
        path: this.path,
        method: this.method,
        headers: this._headers,
        query: this.query,
        contentType: this.contentType,
        timestamp: this._ts,
        meta: this._meta === undefined ? undefined : (cloneOrThrow(this._meta, 'meta') as Record<string, unknown>),
        batch: this.batch,
        stream: this.stream,
      },
      this._owner,
    );
    ev._date = this._date;
    return ev;
  }

  /** @internal mark the event for an error handler */
  _setError(error: SgError | undefined, originStep: string | undefined): void {
    (this as { error: SgError | undefined }).error = error;
    (this as { originStep: string | undefined }).originStep = originStep;
  }

  toJSON(): Record<string, unknown> {
    return {
      id: this.id,
      body: this.body,
      path: this.path,
      method: this.method,
      headers: this.headers,
      query: this.query,
      contentType: this.contentType,
      timestamp: this.timestamp.toISOString(),
      meta: this._meta ?? EMPTY,
      ...(this.batch ? { batch: this.batch } : {}),
      ...(this.stream ? { stream: this.stream } : {}),
      ...(this.error ? { error: this.error.toJSON(), originStep: this.originStep } : {}),
    };
  }
}

/**
 * The body of a batch event's copy. A fullEvent batch holds its member events: each is copied as an event
 * (it stays bound to its request), since structuredClone cannot copy an event.
 */
function copyBatchBody(body: unknown): unknown {
  if (Array.isArray(body) && body.length > 0 && body.every((m) => m instanceof Event)) {
    return body.map((m: Event) => m.copy());
  }
  return cloneOrThrow(body, 'body');
}

/** structuredClone, failing with SG_ERR_NOT_CLONEABLE naming the offending type. */
export function cloneOrThrow<T>(value: T, what: string): T {
  // primitives need no copy: the common case costs nothing
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function' || typeof value === 'symbol') throw notCloneable(value, what);
    return value;
  }
  const flat = copyFlat(value);
  if (flat !== undefined) return flat as T;
  try {
    return structuredClone(value);
  } catch (err) {
    throw notCloneable(findUncloneable(value) ?? value, what, err);
  }
}

/**
 * A copy of a plain object or dense array whose values are all primitives, the same as structuredClone would
 * make, for a fraction of its cost (most bodies at a branch look like this). Anything else: undefined, and
 * structuredClone does the work, with its handling of shared references, cycles and special types.
 */
function copyFlat(value: object): object | undefined {
  if (Array.isArray(value)) {
    const n = value.length;
    if (n > 64 || Object.getPrototypeOf(value) !== Array.prototype) return undefined;
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      if (!(i in value)) return undefined;
      const v = value[i];
      if (v !== null && (typeof v === 'object' || typeof v === 'function' || typeof v === 'symbol')) return undefined;
      out[i] = v;
    }
    return Object.keys(value).length === n ? out : undefined;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const out: Record<string, unknown> = {};
  let count = 0;
  for (const k in value) {
    if (++count > 64 || k === '__proto__') return undefined;
    const v = (value as Record<string, unknown>)[k];
    if (v !== null && (typeof v === 'object' || typeof v === 'function' || typeof v === 'symbol')) return undefined;
    out[k] = v;
  }
  return out;
}

function notCloneable(offender: unknown, what: string, cause?: unknown): SgError {
  return new SgError('SG_ERR_NOT_CLONEABLE', `event ${what} cannot be copied: it holds ${describe(offender)}`, {
    details: { type: describe(offender), what },
    cause,
  });
}

/** The first value inside `v` that structuredClone refuses, for the message. */
function findUncloneable(v: unknown, seen = new Set<unknown>()): unknown {
  if (typeof v === 'function' || typeof v === 'symbol') return v;
  if (v === null || typeof v !== 'object' || seen.has(v)) return undefined;
  seen.add(v);
  if (v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet) return v;
  const values = v instanceof Map ? [...v.keys(), ...v.values()] : v instanceof Set ? [...v] : Object.values(v);
  for (const x of values) {
    const found = findUncloneable(x, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}
