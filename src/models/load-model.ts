import { describe, errorText, placeError, SgError } from '../errors/index.js';
import type { ModelDef } from './endpoint.js';
import { implementedMethods, isModel, isModelClass, type Model } from './model.js';
import type { ModelLogger } from './types.js';

type Resolve = (ref: string, what: string) => Promise<unknown>;

/** Where the error of a model names itself: the endpoint (or shared model) and the runner step. */
function place(err: SgError, step: string | undefined, name: string): SgError {
  return placeError(err, step, name);
}

/**
 * Build and load one in-process copy of a model (naive, asyncio, shared inline models): resolve its
 * class, construct it with the options of model-runner.md section 1, check that it implements a
 * predict method, and await load(). Errors name the step and endpoint.
 */
export async function loadInlineModel(
  def: ModelDef,
  step: string | undefined,
  resolve: Resolve,
  logger: ModelLogger,
): Promise<Model> {
  let model: Model;
  const who = step === undefined ? `shared model '${def.name}'` : `runner '${step}', endpoint '${def.name}'`;
  try {
    if (isModel(def.modelClass)) {
      model = def.modelClass;
    } else {
      const cls = typeof def.modelClass === 'string' ? await resolve(def.modelClass, 'modelClass') : def.modelClass;
      if (!isModelClass(cls)) {
        throw new SgError(
          'SG_ERR_INVALID_CLASS',
          `${who}: modelClass '${def.classLabel}' is ${describe(cls)}, expected a class that extends Model`,
          {
            details: { reference: def.classLabel, expected: 'a Model subclass' },
          },
        );
      }
      const options: Record<string, unknown> = { name: def.name, modelParameters: def.modelParameters };
      if (def.artifact !== undefined) options.modelArtifact = def.artifact;
      if (def.inputPath !== undefined) options.inputPath = [...def.inputPath.segments];
      if (def.resultPath !== undefined) options.resultPath = [...def.resultPath.segments];
      try {
        model = new cls(options as never);
      } catch (err) {
        if (err instanceof SgError) throw err;
        throw new SgError('SG_ERR_MODEL_LOAD', `${who}: constructing ${def.classLabel} failed: ${errorText(err)}`, {
          cause: err,
        });
      }
    }
    const m = implementedMethods(model);
    if (!m.predict && !m.predictAsync && !m.predictStream) {
      throw new SgError(
        'SG_ERR_PREDICT_NOT_IMPLEMENTED',
        `${who} (${def.classLabel}, ${def.mechanism}): the class implements none of predict, predictAsync, predictStream`,
        {
          details: { mechanism: def.mechanism },
        },
      );
    }
    model._mechanism = def.mechanism;
    model._logger = logger;
    if (def.proxies !== undefined) (model as { _proxies?: unknown })._proxies = def.proxies;
    try {
      await model.load();
    } catch (err) {
      if (err instanceof SgError) throw err;
      throw new SgError('SG_ERR_MODEL_LOAD', `${who}: load() failed: ${errorText(err)}`, { cause: err });
    }
    return model;
  } catch (err) {
    throw place(
      err instanceof SgError ? err : new SgError('SG_ERR_MODEL_LOAD', String(err), { cause: err }),
      step,
      def.name,
    );
  }
}
