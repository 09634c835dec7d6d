import type { z } from 'zod';
import { SgError } from '../errors/index.js';

/** SG_ERR_INVALID_SPEC naming where in the spec the problem is (`details.path`, e.g. 'steps.clean.after'). */
export function invalidSpec(path: string, message: string, cause?: unknown): SgError {
  return new SgError('SG_ERR_INVALID_SPEC', `invalid spec${path ? ` at '${path}'` : ''}: ${message}`, {
    details: { path },
    cause,
  });
}

/** The first zod issue as SG_ERR_INVALID_SPEC. */
export function fromZodError(error: z.ZodError, prefix: readonly (string | number)[] = []): SgError {
  const issue = error.issues[0];
  const path = [...prefix, ...issue.path.map((p) => String(p))].join('.');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys')
    message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  return invalidSpec(path, message, error);
}
