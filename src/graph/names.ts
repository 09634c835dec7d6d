import { describe, SgError } from '../errors/index.js';

const NAME_RE = /^[^\s/]{1,128}$/u;

/** Step and endpoint names: non-empty, at most 128 characters, no whitespace or '/'. */
export function checkName(name: unknown, what: string, step?: string): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new SgError(
      'SG_ERR_INVALID_OPTION',
      `${what} must be a non-empty string of at most 128 characters without whitespace or '/', got ${describe(name)}`,
      { step, details: { field: 'name' } },
    );
  }
  return name;
}
