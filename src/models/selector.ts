import type { Event } from '../engine/event.js';
import type { ModelEntry } from './types.js';

export type SelectResult = string[] | ModelEntry[] | Array<string | ModelEntry> | null | undefined;

const SELECTOR_BRAND = Symbol.for('servegraph.ModelSelector');

/**
 * Picks the endpoints that run for each event (model-runner.md section 4). Subclasses override
 * `select`; a selector given by name or class is built once per server start with its parameters.
 */
export class ModelSelector {
  readonly params: Readonly<Record<string, unknown>>;

  constructor(params: Record<string, unknown> = {}) {
    this.params = params;
  }

  /** The endpoints to run, in order; null or undefined runs them all. It must not change the event. */
  select(event: Event, availableModels: readonly ModelEntry[]): SelectResult | Promise<SelectResult> {
    void event;
    void availableModels;
    return undefined;
  }
}

Object.defineProperty(ModelSelector.prototype, SELECTOR_BRAND, { value: true });

export function isSelector(v: unknown): v is ModelSelector {
  return v !== null && typeof v === 'object' && typeof (v as { select?: unknown }).select === 'function';
}

export function isSelectorClass(fn: unknown): fn is new (params: Record<string, unknown>) => ModelSelector {
  return (
    typeof fn === 'function' &&
    fn.prototype !== undefined &&
    typeof (fn.prototype as { select?: unknown }).select === 'function'
  );
}
