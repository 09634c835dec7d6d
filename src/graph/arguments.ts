import { describe, SgError } from '../errors/index.js';
import { isStep } from './step.js';

// Checks of the arguments of the graph-building API: a wrong type is SG_ERR_INVALID_OPTION, never a TypeError.

export function checkStep(v: unknown, where: string): void {
  if (!isStep(v)) {
    throw new SgError('SG_ERR_INVALID_OPTION', `${where}: expected a step (a Step instance), got ${describe(v)}`, {
      details: { field: 'step' },
    });
  }
}

/** SG_ERR_INVALID_OPTION unless `options` is an object holding only `allowed` fields. */
export function checkOptions(options: unknown, where: string, allowed: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new SgError('SG_ERR_INVALID_OPTION', `${where}: options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new SgError('SG_ERR_INVALID_OPTION', `${where}: unknown option '${key}' (allowed: ${allowed.join(', ')})`, {
        details: { field: key },
      });
    }
  }
}

/** SG_ERR_INVALID_OPTION unless `value` is a step name or a Step (or, with `many`, an array of them). */
export function checkRefs(value: unknown, where: string, field: string, many: boolean): void {
  if (value === undefined) return;
  const isRef = (v: unknown) => typeof v === 'string' || isStep(v);
  if (isRef(value) || (many && Array.isArray(value) && value.every(isRef))) return;
  throw new SgError(
    'SG_ERR_INVALID_OPTION',
    `${where}: ${field} must be a step name or a Step${many ? ', or an array of them' : ''}, got ${describe(value)}`,
    { details: { field } },
  );
}

/** Create an empty flow graph (graph.md section 1). */
