import { describe, SgError } from '../errors/index.js';
import { errorText } from '../errors/wrap.js';

export type Failure = { name: string; error: SgError };

/** The `error` text of a failure slot: the thrown error's `"<name>: <message>"`, or the SgError's. */
function slotText(err: SgError): string {
  if (err.code === 'SG_ERR_MODEL_FAILED' && err.cause !== undefined) return errorText(err.cause);
  return `SgError: ${err.message}`;
}

/** `{ error, code }`: what a failed call contributes to the output (model-runner.md section 6). */
export function failureSlot(err: SgError): { error: string; code: string } {
  return { error: slotText(err), code: err.code };
}

/** SG_ERR_MODEL_RUNNER listing every failed endpoint (raiseException: true). */
export function runnerError(step: string, failures: Failure[], results: unknown): SgError {
  const errors: Record<string, string> = {};
  const codes: Record<string, string> = {};
  for (const f of failures) {
    errors[f.name] = slotText(f.error);
    codes[f.name] = f.error.code;
  }
  return new SgError(
    'SG_ERR_MODEL_RUNNER',
    `model runner '${step}' failed: ${failures.map((f) => `${f.name}: ${errors[f.name]}`).join('; ')}`,
    {
      step,
      endpoint: failures.length === 1 ? failures[0].name : undefined,
      details: { errors, codes, results },
      cause: failures[0].error,
    },
  );
}

/** Whatever a selector throws is the cause of SG_ERR_SELECTOR_FAILED (model-runner.md section 4). */
export function selectorFailed(step: string, err: unknown): SgError {
  return new SgError('SG_ERR_SELECTOR_FAILED', `runner '${step}': the model selector failed: ${errorText(err)}`, {
    step,
    cause: err,
  });
}

export function selectorInvalid(step: string, value: unknown, why: string): SgError {
  return new SgError(
    'SG_ERR_SELECTOR_INVALID',
    `runner '${step}': the model selector returned ${describe(value)}: ${why}`,
    {
      step,
      details: { received: describe(value) },
    },
  );
}
