import { describe, SgError } from '../errors/index.js';
import { selectorInvalid } from './runner-errors.js';
import type { RunnerPlan, Target } from './runner-plan.js';

/**
 * The endpoints a selector's answer names (model-runner.md section 4): null/undefined runs all; an array of
 * names and/or entries runs those, in that order; anything else, a repeat, or an unknown name fails.
 */
export function pickTargets(plan: RunnerPlan, value: unknown, step: string): Target[] {
  if (value === null || value === undefined) return plan.targets;
  if (!Array.isArray(value))
    throw selectorInvalid(step, value, 'expected an array of endpoint names or entries, null or undefined');
  const out: Target[] = [];
  for (const item of value) {
    let name: string | undefined;
    if (typeof item === 'string') name = item;
    else if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      const entryAt = plan.entries.indexOf(item);
      name =
        entryAt >= 0
          ? plan.entries[entryAt].name
          : typeof (item as { name?: unknown }).name === 'string'
            ? (item as { name: string }).name
            : undefined;
      if (name === undefined) throw unknownModel(plan, step, describe(item));
    } else {
      throw selectorInvalid(step, item, 'items must be endpoint names or entries of availableModels');
    }
    const t = plan.byName.get(name);
    if (t === undefined) throw unknownModel(plan, step, `'${name}'`, name);
    if (out.includes(t)) throw selectorInvalid(step, value, `'${name}' is chosen twice`);
    out.push(t);
  }
  return out;
}

/** SG_ERR_UNKNOWN_MODEL: the selector chose a name or an object that is not an endpoint of this step. */
function unknownModel(plan: RunnerPlan, step: string, shown: string, name?: string): SgError {
  const endpoints = plan.targets.map((x) => x.name);
  return new SgError(
    'SG_ERR_UNKNOWN_MODEL',
    `runner '${step}': the selector chose ${shown}, which is not an endpoint of this step (endpoints: ${endpoints.map((x) => `'${x}'`).join(', ')})`,
    { step, details: { name: name ?? shown, endpoints } },
  );
}
