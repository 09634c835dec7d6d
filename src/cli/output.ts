import { codeInfo, SgError } from '../errors/index.js';

/** Exit codes of every command (README, "Command line"). */
export const EXIT = { ok: 0, runtime: 1, usage: 2 } as const;

/** 2 for validation, start-up and usage errors; 1 for run-time failures. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof SgError)
    return codeInfo(err.code)?.when === 'build' || err.code === 'SG_ERR_INVALID_OPTION' ? EXIT.usage : EXIT.runtime;
  return EXIT.runtime;
}

/** One clear line naming the code: `servegraph: SG_ERR_…: message`. */
export function errorLine(err: unknown): string {
  if (err instanceof SgError) return `servegraph: ${err.code}: ${err.message}`;
  return `servegraph: SG_ERR_INTERNAL: ${err instanceof Error ? err.message : String(err)}`;
}

/** The error body of http.md ("Errors") for a failed request. */
export function errorBody(err: unknown): string {
  const e =
    err instanceof SgError ? err : new SgError('SG_ERR_INTERNAL', err instanceof Error ? err.message : String(err));
  return JSON.stringify({ error: e.toJSON() });
}
