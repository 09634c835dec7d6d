import { SgError } from './sg-error.js';

/**
 * An error in a form that survives `structuredClone` / `postMessage` / advanced IPC serialization
 * (model-runner.md section 8, graph.md section 14).
 */
export type SerializedError =
  | {
      kind: 'sg';
      code: string;
      message: string;
      step?: string;
      endpoint?: string;
      details: Record<string, unknown>;
      cause?: SerializedError;
      stack?: string;
    }
  | { kind: 'error'; name: string; message: string; stack?: string; cause?: SerializedError }
  /** a thrown value that is not an Error: kept when it can be cloned, else its `String()` */
  | { kind: 'value'; value: unknown };

/** The built-in error types that come back as themselves. */
const BUILTIN: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Deeper cause chains are cut (they are almost always cycles). */
const MAX_DEPTH = 8;

/** Turn a thrown value into its cloneable form. */
export function serializeError(err: unknown): SerializedError {
  return ser(err, 0);
}

function ser(err: unknown, depth: number): SerializedError {
  if (err instanceof SgError) {
    const out: SerializedError = {
      kind: 'sg',
      code: err.code,
      message: err.message,
      details: cloneableOr(err.details, {}),
    };
    if (err.step !== undefined) out.step = err.step;
    if (err.endpoint !== undefined) out.endpoint = err.endpoint;
    if (typeof err.stack === 'string') out.stack = err.stack;
    if (err.cause !== undefined && depth < MAX_DEPTH) out.cause = ser(err.cause, depth + 1);
    return out;
  }
  if (err instanceof Error) {
    const out: SerializedError = { kind: 'error', name: String(err.name), message: String(err.message) };
    if (typeof err.stack === 'string') out.stack = err.stack;
    if (err.cause !== undefined && depth < MAX_DEPTH) out.cause = ser(err.cause, depth + 1);
    return out;
  }
  return { kind: 'value', value: cloneableOr(err, String(err)) };
}

/** Rebuild a thrown value from its cloneable form: an SgError as an SgError, other errors by `name`. */
export function deserializeError(s: SerializedError): unknown {
  switch (s.kind) {
    case 'sg': {
      let err: SgError;
      const cause = s.cause === undefined ? undefined : deserializeError(s.cause);
      const details = s.details !== null && typeof s.details === 'object' && !Array.isArray(s.details) ? s.details : {};
      try {
        err = new SgError(s.code, s.message, { step: s.step, endpoint: s.endpoint, details, cause });
      } catch {
        // a malformed code or details (not a plain object after the copy): keep what can be kept
        err = new SgError('SG_ERR_MODEL_FAILED', `${s.code}: ${s.message}`, {
          step: s.step,
          endpoint: s.endpoint,
          cause,
        });
      }
      if (s.stack !== undefined) setStack(err, s.stack);
      return err;
    }
    case 'error': {
      const Ctor = Object.hasOwn(BUILTIN, s.name) ? BUILTIN[s.name] : Error;
      const err =
        s.cause === undefined ? new Ctor(s.message) : new Ctor(s.message, { cause: deserializeError(s.cause) });
      if (err.name !== s.name) {
        Object.defineProperty(err, 'name', { value: s.name, writable: true, configurable: true, enumerable: false });
      }
      if (s.stack !== undefined) setStack(err, s.stack);
      return err;
    }
    default:
      return s.value;
  }
}

function setStack(err: Error, stack: string): void {
  Object.defineProperty(err, 'stack', { value: stack, writable: true, configurable: true, enumerable: false });
}

function cloneableOr<T>(value: T, fallback: T): T {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol' ? fallback : value;
  }
  try {
    return structuredClone(value);
  } catch {
    return fallback;
  }
}

/**
 * The first value inside `root` that structured clone refuses (functions, symbols, Promises, WeakMaps,
 * WeakSets, WeakRefs), with where it sits (`'.a.b[2]'`, `''` for the root). Undefined when none is found.
 * Only called after a clone failed, so its cost does not matter.
 */
export function findUncloneable(root: unknown): { type: string; at: string } | undefined {
  const seen = new Set<object>();
  const walk = (v: unknown, at: string): { type: string; at: string } | undefined => {
    if (typeof v === 'function') return { type: v.name ? `a function (${v.name})` : 'a function', at };
    if (typeof v === 'symbol') return { type: 'a symbol', at };
    if (v === null || typeof v !== 'object') return undefined;
    if (seen.has(v)) return undefined;
    seen.add(v);
    const tag = Object.prototype.toString.call(v).slice(8, -1);
    if (v instanceof Promise || tag === 'Promise') return { type: 'a Promise', at };
    if (v instanceof WeakMap || v instanceof WeakSet || v instanceof WeakRef) return { type: `a ${tag}`, at };
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Date || v instanceof RegExp) return undefined;
    if (v instanceof Map) {
      let i = 0;
      for (const [k, x] of v) {
        const hit = walk(k, `${at}<key ${i}>`) ?? walk(x, `${at}.get(${describeKey(k)})`);
        if (hit) return hit;
        i++;
      }
      return undefined;
    }
    if (v instanceof Set) {
      let i = 0;
      for (const x of v) {
        const hit = walk(x, `${at}<item ${i++}>`);
        if (hit) return hit;
      }
      return undefined;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const hit = walk(v[i], `${at}[${i}]`);
        if (hit) return hit;
      }
      return undefined;
    }
    for (const k of Object.keys(v)) {
      let x: unknown;
      try {
        x = (v as Record<string, unknown>)[k];
      } catch {
        continue;
      }
      const hit = walk(x, `${at}.${k}`);
      if (hit) return hit;
    }
    return undefined;
  };
  return walk(root, '');
}

function describeKey(k: unknown): string {
  return typeof k === 'string' ? JSON.stringify(k) : typeof k === 'object' ? 'object' : String(k);
}
