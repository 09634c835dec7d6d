import { describe, SgError } from '../errors/index.js';
import type { Path } from '../graph/paths.js';
import type { EndpointDef, ModelDef } from './endpoint.js';
import { isModel } from './model.js';
import type { Artifact } from './types.js';

const pathForm = (p: Path) => (p.segments.some((s) => s.includes('.')) ? [...p.segments] : p.text);

/** The spec-file fields of a model definition (addModel / addSharedModel fields, model-runner.md section 9). */
export function modelDefSpec(
  def: ModelDef,
  where: { step?: string; endpoint: string },
  classRef: (target: unknown, what: string) => string,
): Record<string, unknown> {
  if (isModel(def.modelClass)) {
    throw new SgError(
      'SG_ERR_NOT_SERIALIZABLE',
      `${where.step ? `runner '${where.step}', endpoint` : 'shared model'} '${where.endpoint}': a model instance exists in code only; give modelClass as a registered name or 'module#Export'`,
      {
        step: where.step,
        endpoint: where.endpoint,
        details: { field: 'modelClass' },
      },
    );
  }
  const out: Record<string, unknown> = {
    modelClass: classRef(def.modelClass, 'modelClass'),
    executionMechanism: def.mechanism,
  };
  if (def.artifact !== undefined) out.modelArtifact = artifactSpec(def.artifact);
  if (def.inputPath) out.inputPath = pathForm(def.inputPath);
  if (def.resultPath) out.resultPath = pathForm(def.resultPath);
  if (def.inputs) out.inputs = [...def.inputs];
  if (def.outputs) out.outputs = [...def.outputs];
  if (Object.keys(def.modelParameters).length > 0)
    out.modelParameters = specValue(def.modelParameters, 'modelParameters', where) as Record<string, unknown>;
  if (def.timeoutMs > 0) out.timeoutMs = def.timeoutMs;
  if (def.maxConcurrentCalls !== undefined) out.maxConcurrentCalls = def.maxConcurrentCalls;
  return out;
}

/**
 * An artifact in a spec file: its JSON form inline (never an in-code apiKey); a prompt file by its absolute
 * path, since the spec file may be written to another folder than the artifact's.
 */
function artifactSpec(a: Artifact): unknown {
  const json = (a as { toJSON(): Record<string, unknown> }).toJSON();
  const promptPath = (a as { _promptFilePath?: string })._promptFilePath;
  if (json.promptFile !== undefined && promptPath !== undefined) json.promptFile = promptPath;
  return json;
}

/** The spec-file form of one endpoint of a runner. */
export function endpointSpec(
  e: EndpointDef,
  step: string,
  classRef: (target: unknown, what: string) => string,
): Record<string, unknown> {
  const out: Record<string, unknown> =
    e.kind === 'model'
      ? modelDefSpec(e.model, { step, endpoint: e.name }, classRef)
      : {
          executionMechanism: 'shared_executor',
          ...(e.sharedModelName ? { sharedModelName: e.sharedModelName } : {}),
          ...(e.artifact ? { modelArtifact: artifactSpec(e.artifact) } : {}),
        };
  if (Object.keys(e.labels).length > 0) out.labels = { ...e.labels };
  if (e.creationStrategy !== 'inplace') out.modelEndpointCreationStrategy = e.creationStrategy;
  return out;
}

/**
 * A copy of `v` that a YAML or JSON spec file can hold (plain objects, arrays, strings, finite numbers,
 * booleans, null; `undefined` properties dropped); anything else (a function, a class instance, a Map...)
 * exists in code only: SG_ERR_NOT_SERIALIZABLE naming where it is.
 */
function specValue(v: unknown, at: string, where: { step?: string; endpoint: string }): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (Array.isArray(v)) return v.map((x, i) => specValue(x, `${at}.${i}`, where));
  if (typeof v === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(v))) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = specValue(x, `${at}.${k}`, where);
    return out;
  }
  throw new SgError(
    'SG_ERR_NOT_SERIALIZABLE',
    `${where.step ? `runner '${where.step}', endpoint` : 'shared model'} '${where.endpoint}': ${at} is ${describe(v)}, which exists in code only and cannot be written to a spec file`,
    { step: where.step, endpoint: where.endpoint, details: { field: at } },
  );
}
