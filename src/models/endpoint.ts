import { describe, SgError } from '../errors/index.js';
import { checkName } from '../graph/names.js';
import { type Path, parsePath } from '../graph/paths.js';
import type { PathOption } from '../graph/types.js';
import { splitReference } from '../registry/references.js';
import { lookupRegistered, registeredNameOf, workerReference } from '../registry/registry.js';
import { ModelArtifact } from './artifacts/model-artifact.js';
import { isModel, isModelClass, type Model } from './model.js';
import { type Artifact, type ExecutionMechanism, MECHANISMS, type ModelOptions, WORKER_MECHANISMS } from './types.js';

export type CreationStrategy = 'inplace' | 'overwrite' | 'archive';
export type ModelClassRef = string | (new (options: ModelOptions) => Model) | Model;

/** Options of runner.addModel (model-runner.md section 3). */
export type AddModelOptions = {
  endpointName: string;
  modelClass: ModelClassRef;
  executionMechanism: Exclude<ExecutionMechanism, 'shared_executor'>;
  modelArtifact?: Artifact;
  inputPath?: PathOption;
  resultPath?: PathOption;
  labels?: string[] | Record<string, string>;
  modelEndpointCreationStrategy?: CreationStrategy;
  inputs?: string[];
  outputs?: string[];
  override?: boolean;
  modelParameters?: Record<string, unknown>;
  timeoutMs?: number;
  maxConcurrentCalls?: number;
};

/** Options of runner.addSharedModelProxy (model-runner.md section 7). */
export type AddProxyOptions = {
  endpointName: string;
  sharedModelName?: string;
  modelArtifact?: Artifact;
  labels?: string[] | Record<string, string>;
  modelEndpointCreationStrategy?: CreationStrategy;
  override?: boolean;
};

/** What a model runs as: its class reference and how to make it (shared by endpoints and shared models). */
export type ModelDef = {
  /** endpoint name, or the shared model's name */
  name: string;
  modelClass: ModelClassRef;
  /** the class reference as shown to selectors and monitoring */
  classLabel: string;
  mechanism: Exclude<ExecutionMechanism, 'shared_executor'>;
  artifact: Artifact | undefined;
  inputPath: Path | undefined;
  resultPath: Path | undefined;
  inputs: string[] | undefined;
  outputs: string[] | undefined;
  modelParameters: Record<string, unknown>;
  timeoutMs: number;
  maxConcurrentCalls: number | undefined;
  /** outputs given to a class that fixes its own (LLModel): replaced, and warned about at start-up */
  outputsReplaced?: readonly string[];
  /** a shared model's proxies, endpoint name → artifact (set when the graph starts) */
  proxies?: ReadonlyMap<string, Artifact | undefined>;
};

/** An endpoint of a runner: a model of its own, or a proxy of a shared model. */
export type EndpointDef =
  | { kind: 'model'; name: string; labels: Record<string, string>; creationStrategy: CreationStrategy; model: ModelDef }
  | {
      kind: 'proxy';
      name: string;
      labels: Record<string, string>;
      creationStrategy: CreationStrategy;
      sharedModelName: string | undefined;
      artifact: Artifact | undefined;
    };

const MODEL_KEYS = [
  'endpointName',
  'modelClass',
  'executionMechanism',
  'modelArtifact',
  'inputPath',
  'resultPath',
  'labels',
  'modelEndpointCreationStrategy',
  'inputs',
  'outputs',
  'override',
  'modelParameters',
  'timeoutMs',
  'maxConcurrentCalls',
];
const PROXY_KEYS = [
  'endpointName',
  'sharedModelName',
  'modelArtifact',
  'labels',
  'modelEndpointCreationStrategy',
  'override',
];
const STRATEGIES: readonly CreationStrategy[] = ['inplace', 'overwrite', 'archive'];

export function invalidOption(
  step: string | undefined,
  endpoint: string | undefined,
  field: string,
  expected: string,
  got: unknown,
): SgError {
  const where = `${step ? `runner '${step}'` : 'shared model'}${endpoint ? `, endpoint '${endpoint}'` : ''}`;
  return new SgError('SG_ERR_INVALID_OPTION', `${where}: ${field} must be ${expected}, got ${describe(got)}`, {
    step,
    endpoint,
    details: { field },
  });
}

function checkKeys(
  o: object,
  allowed: readonly string[],
  step: string | undefined,
  endpoint: string | undefined,
): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k))
      throw invalidOption(step, endpoint, k, `one of ${allowed.join(', ')} (unknown option)`, k);
}

/** Labels in record form: a list `['eu', 'tier=gold']` becomes `{ eu: '', tier: 'gold' }` (monitoring.md section 1). */
export function normaliseLabels(labels: unknown, step: string | undefined, endpoint: string): Record<string, string> {
  if (labels === undefined) return {};
  if (Array.isArray(labels)) {
    const out: Record<string, string> = {};
    for (const l of labels) {
      if (typeof l !== 'string' || l === '')
        throw invalidOption(step, endpoint, 'labels', 'strings or a record of strings', labels);
      const at = l.indexOf('=');
      if (at < 0) out[l] = '';
      else out[l.slice(0, at)] = l.slice(at + 1);
    }
    return out;
  }
  if (labels !== null && typeof labels === 'object' && Object.values(labels).every((v) => typeof v === 'string'))
    return { ...(labels as Record<string, string>) };
  throw invalidOption(step, endpoint, 'labels', 'a list of strings or a record of strings', labels);
}

function checkArtifact(a: unknown, step: string | undefined, endpoint: string): Artifact | undefined {
  if (a === undefined) return undefined;
  if (
    a instanceof ModelArtifact ||
    (a !== null && typeof a === 'object' && (a as { kind?: unknown }).kind === 'llm-prompt')
  )
    return a as Artifact;
  throw invalidOption(step, endpoint, 'modelArtifact', 'a ModelArtifact or an LLMPromptArtifact', a);
}

function checkStrategy(s: unknown, step: string | undefined, endpoint: string): CreationStrategy {
  if (s === undefined) return 'inplace';
  if (STRATEGIES.includes(s as CreationStrategy)) return s as CreationStrategy;
  throw invalidOption(step, endpoint, 'modelEndpointCreationStrategy', `one of ${STRATEGIES.join(', ')}`, s);
}

function stringList(v: unknown, field: string, step: string | undefined, endpoint: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return [...v];
  throw invalidOption(step, endpoint, field, 'an array of strings', v);
}

/** Whether a class reference can be imported inside a worker (model-runner.md section 8). */
export function workerLoadable(ref: ModelClassRef): boolean {
  if (typeof ref === 'string')
    return (
      splitReference(ref) !== undefined || workerReference(ref) !== undefined || ref === 'LLModel' || ref === 'Model'
    );
  if (isModel(ref)) return false;
  const name = registeredNameOf(ref);
  return name !== undefined && workerReference(name) !== undefined;
}

/** Validate the model part of addModel / addSharedModel (everything but endpoint fields). */
export function makeModelDef(
  o: Record<string, unknown>,
  name: string,
  step: string | undefined,
  forShared: boolean,
): ModelDef {
  const mech = o.executionMechanism;
  if (mech === 'shared_executor') {
    throw new SgError(
      'SG_ERR_INVALID_OPTION',
      `${forShared ? `shared model '${name}'` : `runner '${step}', endpoint '${name}'`}: 'shared_executor' is set only by addSharedModelProxy(); use addSharedModelProxy()`,
      {
        step,
        endpoint: name,
        details: { field: 'executionMechanism' },
      },
    );
  }
  if (typeof mech !== 'string' || !MECHANISMS.includes(mech as ExecutionMechanism)) {
    throw new SgError(
      'SG_ERR_INVALID_MECHANISM',
      `${forShared ? `shared model '${name}'` : `runner '${step}', endpoint '${name}'`}: executionMechanism must be one of ${MECHANISMS.filter((m) => m !== 'shared_executor').join(', ')}, got ${describe(mech)}`,
      { step, endpoint: name, details: { field: 'executionMechanism' } },
    );
  }
  const mechanism = mech as ModelDef['mechanism'];
  if (o.override !== undefined && typeof o.override !== 'boolean')
    throw invalidOption(step, name, 'override', 'a boolean', o.override);
  const cls = o.modelClass;
  let artifact = checkArtifact(o.modelArtifact, step, name);
  let classLabel: string;
  const params = o.modelParameters;
  if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) {
    throw invalidOption(step, name, 'modelParameters', 'an object', params);
  }
  if (typeof cls === 'string' && cls !== '') {
    classLabel = cls;
  } else if (isModelClass(cls)) {
    // the class name, as selectors and monitoring show it (model-runner.md section 4)
    classLabel = cls.name || (registeredNameOf(cls) ?? '(anonymous class)');
  } else if (isModel(cls)) {
    if (params !== undefined)
      throw invalidOption(
        step,
        name,
        'modelParameters',
        'absent when modelClass is an instance (give them to its constructor)',
        params,
      );
    if (cls.name !== name)
      throw invalidOption(step, name, 'modelClass', `an instance named '${name}' (the endpoint name)`, cls.name);
    if (artifact !== undefined && (cls.invocationArtifact ?? cls.modelArtifact) !== undefined) {
      throw invalidOption(
        step,
        name,
        'modelArtifact',
        'given once: to the instance or to addModel, not both',
        artifact,
      );
    }
    artifact ??= cls.invocationArtifact ?? cls.modelArtifact;
    classLabel = cls.constructor.name;
  } else {
    throw invalidOption(
      step,
      name,
      'modelClass',
      "a registered name, a 'module#Export' string, a Model class or a Model instance",
      cls,
    );
  }
  if (WORKER_MECHANISMS.includes(mechanism) && typeof cls !== 'string' && !workerLoadable(cls as ModelClassRef)) {
    throw new SgError(
      'SG_ERR_NOT_WORKER_LOADABLE',
      `${step ? `runner '${step}', endpoint` : 'shared model'} '${name}': a ${isModel(cls) ? 'model instance' : 'class'} cannot be loaded in a worker (${mechanism}); use a 'module#Export' string, or registerClass(name, Class, { module: import.meta.url })`,
      { step, endpoint: name, details: { mechanism } },
    );
  }
  if (WORKER_MECHANISMS.includes(mechanism) && params !== undefined) {
    try {
      structuredClone(params);
    } catch (err) {
      throw new SgError(
        'SG_ERR_NOT_CLONEABLE',
        `${step ? `runner '${step}', endpoint` : 'shared model'} '${name}': modelParameters cannot be sent to a worker: ${(err as Error).message}`,
        {
          step,
          endpoint: name,
          details: { field: 'modelParameters' },
          cause: err,
        },
      );
    }
  }
  // a class's own checks of its parameters and outputs (LLModel), when the class is known without importing
  const target = (typeof cls === 'string' ? lookupRegistered(cls) : isModel(cls) ? cls.constructor : cls) as
    | {
        _checkParameters?: (p: Record<string, unknown>, endpoint: string, step?: string) => void;
        _fixedOutputs?: readonly string[];
      }
    | undefined;
  if (typeof target?._checkParameters === 'function')
    target._checkParameters((params ?? {}) as Record<string, unknown>, name, step);
  let outputs = stringList(o.outputs, 'outputs', step, name);
  let outputsReplaced: string[] | undefined;
  if (Array.isArray(target?._fixedOutputs)) {
    const fixed = [...target._fixedOutputs];
    if (outputs !== undefined && outputs.join('\u0000') !== fixed.join('\u0000')) outputsReplaced = outputs;
    outputs = fixed;
  }
  const timeoutMs = o.timeoutMs ?? 0;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0)
    throw invalidOption(step, name, 'timeoutMs', 'a number >= 0', timeoutMs);
  const mcc = o.maxConcurrentCalls;
  if (mcc !== undefined && !(Number.isInteger(mcc) && (mcc as number) >= 1))
    throw invalidOption(step, name, 'maxConcurrentCalls', 'an integer >= 1', mcc);
  return {
    name,
    modelClass: cls as ModelClassRef,
    classLabel,
    mechanism,
    artifact,
    inputPath: parsePath(o.inputPath, step ?? name, 'inputPath') ?? (isModel(cls) ? cls.inputPath : undefined),
    resultPath: parsePath(o.resultPath, step ?? name, 'resultPath') ?? (isModel(cls) ? cls.resultPath : undefined),
    inputs: stringList(o.inputs, 'inputs', step, name),
    outputs,
    outputsReplaced,
    modelParameters: (params as Record<string, unknown> | undefined) ?? {},
    timeoutMs,
    maxConcurrentCalls: mcc as number | undefined,
  };
}

/** runner.addModel options → an endpoint definition. */
export function makeModelEndpoint(options: AddModelOptions, step: string): EndpointDef {
  if (options === null || typeof options !== 'object')
    throw invalidOption(step, undefined, 'options', 'an object', options);
  const name = checkName(options.endpointName, 'endpointName', step);
  checkKeys(options, MODEL_KEYS, step, name);
  const model = makeModelDef(options as unknown as Record<string, unknown>, name, step, false);
  return {
    kind: 'model',
    name,
    labels: normaliseLabels(options.labels, step, name),
    creationStrategy: checkStrategy(options.modelEndpointCreationStrategy, step, name),
    model,
  };
}

/** runner.addSharedModelProxy options → an endpoint definition. */
export function makeProxyEndpoint(options: AddProxyOptions, step: string): EndpointDef {
  if (options === null || typeof options !== 'object')
    throw invalidOption(step, undefined, 'options', 'an object', options);
  const name = checkName(options.endpointName, 'endpointName', step);
  checkKeys(options, PROXY_KEYS, step, name);
  if (options.override !== undefined && typeof options.override !== 'boolean')
    throw invalidOption(step, name, 'override', 'a boolean', options.override);
  if (options.sharedModelName === undefined && options.modelArtifact === undefined) {
    throw invalidOption(
      step,
      name,
      'sharedModelName',
      'given (or modelArtifact, to find the shared model by artifact)',
      undefined,
    );
  }
  if (
    options.sharedModelName !== undefined &&
    (typeof options.sharedModelName !== 'string' || options.sharedModelName === '')
  ) {
    throw invalidOption(step, name, 'sharedModelName', 'a non-empty string', options.sharedModelName);
  }
  return {
    kind: 'proxy',
    name,
    labels: normaliseLabels(options.labels, step, name),
    creationStrategy: checkStrategy(options.modelEndpointCreationStrategy, step, name),
    sharedModelName: options.sharedModelName,
    artifact: checkArtifact(options.modelArtifact, step, name),
  };
}
