import { lookupRegistered } from '../registry/registry.js';
import type { ModelDef } from './endpoint.js';
import { implementedMethods, isModel } from './model.js';
import type { Artifact } from './types.js';

/** A class's own rule for whether an endpoint streams (LLModel: its merged invocationConfig.stream). */
type StreamsWith = (artifact: Artifact | undefined, base: Artifact | undefined) => boolean;

/** What the runner must know of a model's class before calling it: does it stream, can it answer whole, how its chunks merge. */
export type ModelTraits = {
  readonly streams: boolean;
  /** it implements predict or predictAsync (used with streaming disabled, streaming.md) */
  readonly predicts: boolean;
  /** Model.collect: its own merge of a collected stream (called on the prototype) */
  readonly collect: ((chunks: unknown[], summary: unknown) => unknown) | undefined;
};

function traitsOfTarget(target: unknown, def: ModelDef, artifact: Artifact | undefined): ModelTraits | undefined {
  const holder = isModel(target)
    ? target
    : typeof target === 'function'
      ? (target.prototype as object | undefined)
      : undefined;
  if (holder === undefined || holder === null) return undefined;
  const m = implementedMethods(holder);
  const collect = (holder as { collect?: unknown }).collect;
  const cls = (isModel(target) ? target.constructor : target) as { _streamsWith?: StreamsWith };
  const rule = cls._streamsWith;
  return {
    streams: typeof rule === 'function' ? rule.call(cls, artifact ?? def.artifact, def.artifact) : m.predictStream,
    predicts: m.predict || m.predictAsync,
    collect: typeof collect === 'function' ? (collect as ModelTraits['collect']) : undefined,
  };
}

/**
 * Traits known without importing anything: a class or instance given in code, or a registered name.
 * `artifact`: the endpoint's (a proxy's own), when it differs from the model's.
 */
export function inMemoryTraits(def: ModelDef, artifact?: Artifact): ModelTraits | undefined {
  const target = typeof def.modelClass === 'string' ? lookupRegistered(def.modelClass) : def.modelClass;
  return typeof target === 'function' || isModel(target) ? traitsOfTarget(target, def, artifact) : undefined;
}

/**
 * Traits of any model: a class named by reference is imported on the main thread to read it (nothing is
 * instantiated; streaming.md), so the streaming rules can be checked at start-up.
 */
export async function modelTraits(
  def: ModelDef,
  resolve: (ref: string, what: string) => Promise<unknown>,
  artifact?: Artifact,
): Promise<ModelTraits | undefined> {
  if (typeof def.modelClass !== 'string') return traitsOfTarget(def.modelClass, def, artifact);
  try {
    return traitsOfTarget(await resolve(def.modelClass, 'modelClass'), def, artifact);
  } catch {
    return undefined; // the executor's start reports the reference's error, with the endpoint named
  }
}
