import type { ModelDef } from './endpoint.js';
import { implementedMethods, isModel } from './model.js';

/** What the runner must know of a model's class before calling it: does it stream, can it answer whole, how its chunks merge. */
export type ModelTraits = {
  readonly streams: boolean;
  /** it implements predict or predictAsync (used with streaming disabled, streaming.md) */
  readonly predicts: boolean;
  /** Model.collect: its own merge of a collected stream (called on the prototype) */
  readonly collect: ((chunks: unknown[], summary: unknown) => unknown) | undefined;
};

function traitsOfTarget(target: unknown): ModelTraits | undefined {
  const holder = isModel(target)
    ? target
    : typeof target === 'function'
      ? (target.prototype as object | undefined)
      : undefined;
  if (holder === undefined || holder === null) return undefined;
  const m = implementedMethods(holder);
  const collect = (holder as { collect?: unknown }).collect;
  return {
    streams: m.predictStream,
    predicts: m.predict || m.predictAsync,
    collect: typeof collect === 'function' ? (collect as ModelTraits['collect']) : undefined,
  };
}

/** Traits known without importing anything: a class or instance given in code. */
export function inMemoryTraits(def: ModelDef): ModelTraits | undefined {
  return typeof def.modelClass === 'string' ? undefined : traitsOfTarget(def.modelClass);
}

/**
 * Traits of any model: a class named by reference is imported on the main thread to read it (nothing is
 * instantiated; streaming.md), so the streaming rules can be checked at start-up.
 */
export async function modelTraits(
  def: ModelDef,
  resolve: (ref: string, what: string) => Promise<unknown>,
): Promise<ModelTraits | undefined> {
  if (typeof def.modelClass !== 'string') return traitsOfTarget(def.modelClass);
  try {
    return traitsOfTarget(await resolve(def.modelClass, 'modelClass'));
  } catch {
    return undefined; // the executor's start reports the reference's error, with the endpoint named
  }
}
