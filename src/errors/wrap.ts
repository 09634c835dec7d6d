import { placeError, SgError } from './sg-error.js';

/**
 * Turn whatever user code threw into the SgError the event fails with: an SgError keeps its code
 * (its step is filled in when missing), anything else becomes `code` with the thrown value as cause.
 */
export function toStepError(err: unknown, step: string, code = 'SG_ERR_STEP_FAILED'): SgError {
  if (err instanceof SgError) return placeError(err, step);
  return new SgError(code, `step '${step}' failed: ${errorText(err)}`, { step, cause: err });
}

/** `"<name>: <message>"` of a thrown value (MLRun's format); a non-Error `v` gives `"Error: " + String(v)`. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return `Error: ${String(err)}`;
}
