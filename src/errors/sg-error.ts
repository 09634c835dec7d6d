import { codeInfo } from './codes.js';

export type SgErrorOptions = {
  step?: string;
  endpoint?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
};

const CODE_RE = /^SG_ERR_[A-Z0-9_]+$/;
/** Marks SgErrors of every copy of servegraph, so that `instanceof` holds across copies (dual packages). */
const BRAND = Symbol.for('servegraph.SgError');

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The one error class of servegraph: a stable `SG_ERR_…` code, the step and endpoint concerned, details. */
export class SgError extends Error {
  override readonly name = 'SgError' as const;
  readonly code: string;
  readonly step: string | undefined;
  readonly endpoint: string | undefined;
  readonly details: Record<string, unknown>;
  override readonly cause: unknown;

  /** `instanceof SgError` holds for SgErrors made by any copy of servegraph loaded in the process. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // `this` is the class instanceof was asked about: a subclass keeps the ordinary prototype check
    // biome-ignore lint/complexity/noThisInStatic: the receiver is the point here
    if (this !== SgError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  constructor(code: string, message: string, options?: SgErrorOptions) {
    if (typeof code !== 'string' || !CODE_RE.test(code)) {
      throw new TypeError(`SgError: code must be a string matching ^SG_ERR_[A-Z0-9_]+$, got ${describe(code)}`);
    }
    if (typeof message !== 'string') throw new TypeError(`SgError: message must be a string, got ${describe(message)}`);
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new TypeError(`SgError: options must be an object, got ${describe(options)}`);
    }
    const { step, endpoint, details, cause } = options ?? {};
    if (step !== undefined && typeof step !== 'string')
      throw new TypeError(`SgError: step must be a string, got ${describe(step)}`);
    if (endpoint !== undefined && typeof endpoint !== 'string') {
      throw new TypeError(`SgError: endpoint must be a string, got ${describe(endpoint)}`);
    }
    if (details !== undefined && !isPlainObject(details)) {
      throw new TypeError(`SgError: details must be a plain object, got ${describe(details)}`);
    }
    super(message);
    this.code = code;
    this.step = step;
    this.endpoint = endpoint;
    this.details = details ?? {};
    this.cause = cause;
  }

  /** The HTTP status of `code` (http.md, "Errors"); 500 for codes that table does not list. */
  get status(): number {
    switch (this.code) {
      case 'SG_ERR_MODEL_RUNNER':
      case 'SG_ERR_ABORTED':
        return this.cause instanceof SgError ? this.cause.status : 500;
      case 'SG_ERR_PROVIDER_HTTP':
        return this.details.status === 429 ? 503 : 502;
      default:
        return codeInfo(this.code)?.status ?? 500;
    }
  }

  declare readonly [BRAND]: true;

  toJSON(): { code: string; message: string; step: string | null; endpoint: string | null } {
    return { code: this.code, message: this.message, step: this.step ?? null, endpoint: this.endpoint ?? null };
  }
}

/** A short description of a value's type, for messages ("got 0", "got an object"). */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'function') return `a function${v.name ? ` (${v.name})` : ''}`;
  if (typeof v === 'symbol') return 'a symbol';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  const ctor = (v as object).constructor;
  if (ctor === undefined || ctor === Object) return 'an object';
  // generator objects and the like have no named constructor: their tag names them
  const name = typeof ctor === 'function' && ctor.name ? ctor.name : Object.prototype.toString.call(v).slice(8, -1);
  return name === 'Object' ? 'an object' : `a ${name}`;
}

/** Fill in the step and endpoint of an error raised by user code, where it has none (graph.md section 14). */
export function placeError(err: SgError, step: string | undefined, endpoint?: string): SgError {
  const w = err as { step: string | undefined; endpoint: string | undefined };
  if (w.step === undefined) w.step = step;
  if (w.endpoint === undefined && endpoint !== undefined) w.endpoint = endpoint;
  return err;
}

Object.defineProperty(SgError.prototype, BRAND, { value: true });
