import { describe, SgError } from '../errors/index.js';

/** A parsed `inputPath` / `resultPath`: its segments, and the text used in messages. */
export type Path = { readonly segments: readonly string[]; readonly text: string };

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const DIGITS = /^[0-9]+$/;

/** Parse a path option (graph.md section 5); throws SG_ERR_INVALID_OPTION naming the step and field. */
export function parsePath(value: unknown, step: string, field: string): Path | undefined {
  if (value === undefined) return undefined;
  let segments: string[];
  if (typeof value === 'string') segments = value.split('.');
  else if (Array.isArray(value) && value.every((s) => typeof s === 'string')) segments = [...value];
  else {
    throw new SgError(
      'SG_ERR_INVALID_OPTION',
      `step '${step}': ${field} must be a string or an array of strings, got ${describe(value)}`,
      {
        step,
        details: { field },
      },
    );
  }
  if (segments.length === 0 || segments.some((s) => s === '')) {
    throw new SgError(
      'SG_ERR_INVALID_OPTION',
      `step '${step}': ${field} must not have empty segments, got ${JSON.stringify(value)}`,
      {
        step,
        details: { field },
      },
    );
  }
  const bad = segments.find((s) => FORBIDDEN.has(s));
  if (bad !== undefined) {
    throw new SgError('SG_ERR_INVALID_OPTION', `step '${step}': ${field} may not contain the segment '${bad}'`, {
      step,
      details: { field },
    });
  }
  return { segments, text: segments.join('.') };
}

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return v !== null && typeof v === 'object';
}

function key(container: object, segment: string): string | number {
  return Array.isArray(container) && DIGITS.test(segment) ? Number(segment) : segment;
}

/** Read the value at `path`; a missing segment gives `undefined` (as in MLRun). */
export function readPath(body: unknown, path: Path, step: string, field = 'inputPath'): unknown {
  if (!isContainer(body)) {
    throw new SgError(
      'SG_ERR_PATH_TARGET',
      `step '${step}': ${field} '${path.text}' needs an object or array body, got ${describe(body)}`,
      {
        step,
        details: { path: path.text, field },
      },
    );
  }
  let cur: unknown = body;
  for (const seg of path.segments) {
    if (!isContainer(cur)) return undefined;
    if (!Object.hasOwn(cur, key(cur, seg))) return undefined;
    cur = (cur as Record<string | number, unknown>)[key(cur, seg)];
  }
  return cur;
}

/** Write `value` at `path` into `body` in place, creating missing intermediate objects. */
export function writePath(body: unknown, path: Path, value: unknown, step: string, field = 'resultPath'): void {
  const fail = (what: string) =>
    new SgError('SG_ERR_PATH_TARGET', `step '${step}': ${field} '${path.text}' ${what}`, {
      step,
      details: { path: path.text, field },
    });
  if (!isContainer(body)) throw fail(`needs an object or array body, got ${describe(body)}`);
  let cur: Record<string | number, unknown> = body as Record<string | number, unknown>;
  const last = path.segments.length - 1;
  for (let i = 0; i < last; i++) {
    const k = key(cur, path.segments[i]);
    let next = Object.hasOwn(cur, k) ? cur[k] : undefined;
    if (next === undefined) {
      next = {};
      cur[k] = next;
    } else if (!isContainer(next)) {
      throw fail(
        `goes through '${path.segments.slice(0, i + 1).join('.')}', which holds ${describe(next)}, not an object or array`,
      );
    }
    cur = next as Record<string | number, unknown>;
  }
  cur[key(cur, path.segments[last])] = value;
}
