import { describe, SgError } from '../errors/index.js';
import { checkName } from '../graph/names.js';
import { type Path, parsePath } from '../graph/paths.js';
import type { LLMPromptArtifact } from '../llm/prompt-artifact.js';
import { ModelArtifact } from './artifacts/model-artifact.js';
import type { Artifact, ExecutionMechanism, ModelCallContext, ModelLogger, ModelOptions } from './types.js';

/** Marks the base predict methods (of any copy of servegraph), to tell which ones a model implements. */
const BASE_METHOD = Symbol.for('servegraph.Model.baseMethod');
const MODEL_BRAND = Symbol.for('servegraph.Model');
const OPTION_KEYS = new Set(['name', 'modelParameters', 'modelArtifact', 'inputPath', 'resultPath']);

const READ_ONLY = [
  'name',
  'modelParameters',
  'modelArtifact',
  'invocationArtifact',
  'inputPath',
  'resultPath',
] as const;

const silent: ModelLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * A model: `load()` once per copy, then `predict` / `predictAsync` / `predictStream` per call
 * (model-runner.md section 1). Subclasses take the same options object and pass it to `super`.
 */
export class Model<In = unknown, Out = unknown> {
  readonly name: string;
  readonly modelParameters: Readonly<Record<string, unknown>>;
  /** the ModelArtifact (for a prompt artifact: the model artifact it links) */
  readonly modelArtifact: ModelArtifact | undefined;
  /** the prompt artifact, when one was given */
  readonly invocationArtifact: Artifact | undefined;
  readonly inputPath: Path | undefined;
  readonly resultPath: Path | undefined;
  /** @internal */ _mechanism: ExecutionMechanism | undefined;
  /** @internal */ _logger: ModelLogger = silent;

  constructor(options: ModelOptions) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new SgError('SG_ERR_INVALID_OPTION', `Model options must be an object, got ${describe(options)}`);
    }
    for (const k of Object.keys(options)) {
      if (!OPTION_KEYS.has(k)) {
        throw new SgError(
          'SG_ERR_INVALID_OPTION',
          `Model: unknown option '${k}' (allowed: ${[...OPTION_KEYS].join(', ')})`,
          { details: { field: k } },
        );
      }
    }
    this.name = checkName(options.name, 'model name');
    const params = options.modelParameters === undefined ? {} : options.modelParameters;
    if (params === null || typeof params !== 'object' || Array.isArray(params)) {
      throw new SgError(
        'SG_ERR_INVALID_OPTION',
        `model '${this.name}': modelParameters must be an object, got ${describe(params)}`,
        {
          endpoint: this.name,
          details: { field: 'modelParameters' },
        },
      );
    }
    this.modelParameters = params;
    const artifact = options.modelArtifact;
    if (artifact !== undefined && !(artifact instanceof ModelArtifact) && !isPromptArtifact(artifact)) {
      throw new SgError(
        'SG_ERR_INVALID_OPTION',
        `model '${this.name}': modelArtifact must be a ModelArtifact or LLMPromptArtifact, got ${describe(artifact)}`,
        {
          endpoint: this.name,
          details: { field: 'modelArtifact' },
        },
      );
    }
    this.invocationArtifact = isPromptArtifact(artifact) ? artifact : undefined;
    this.modelArtifact = isPromptArtifact(artifact) ? artifact.modelArtifact : (artifact as ModelArtifact | undefined);
    this.inputPath = parsePath(options.inputPath, this.name, 'inputPath');
    this.resultPath = parsePath(options.resultPath, this.name, 'resultPath');
    // read-only at run time too: assigning one throws a TypeError (ESM code is strict)
    for (const k of READ_ONLY)
      Object.defineProperty(this, k, { writable: false, configurable: true, enumerable: true });
  }

  /** The mechanism this copy runs in; set before load(). */
  get executionMechanism(): ExecutionMechanism | undefined {
    return this._mechanism;
  }

  get logger(): ModelLogger {
    return this._logger;
  }

  /** Called once per copy at start-up, before any call. */
  load(): void | Promise<void> {}

  predict(input: In, ctx: ModelCallContext): Out | Promise<Out> {
    void input;
    void ctx;
    throw notImplemented(this);
  }

  predictAsync(input: In, ctx: ModelCallContext): Promise<Out> {
    void input;
    void ctx;
    return Promise.reject(notImplemented(this));
  }

  /** Optional: an async generator method makes a streaming model (streaming.md). */
  // an optional method (not a function-typed property), so that Model<In, Out> subclasses stay assignable to Model
  predictStream?(input: In, ctx: ModelCallContext): AsyncGenerator<unknown, unknown>;

  /** Optional: called once per copy at shut-down. */
  close(): void | Promise<void> {}
}

function notImplemented(model: { name: string; constructor: { name: string } }): SgError {
  return new SgError(
    'SG_ERR_PREDICT_NOT_IMPLEMENTED',
    `model '${model.name}' (${model.constructor.name}) implements none of predict, predictAsync, predictStream`,
    {
      endpoint: model.name,
    },
  );
}

Object.defineProperty(Model.prototype, MODEL_BRAND, { value: true });
Object.defineProperty(Model.prototype.predict, BASE_METHOD, { value: true });
Object.defineProperty(Model.prototype.predictAsync, BASE_METHOD, { value: true });

function isPromptArtifact(a: unknown): a is LLMPromptArtifact {
  return a !== null && typeof a === 'object' && (a as { kind?: unknown }).kind === 'llm-prompt';
}

/** Which of the call methods a model (of any copy of servegraph) implements. */
export function implementedMethods(model: object): { predict: boolean; predictAsync: boolean; predictStream: boolean } {
  const m = model as Record<string, unknown>;
  const own = (fn: unknown) =>
    typeof fn === 'function' && (fn as unknown as Record<symbol, unknown>)[BASE_METHOD] !== true;
  return {
    predict: own(m.predict),
    predictAsync: own(m.predictAsync),
    predictStream: typeof m.predictStream === 'function',
  };
}

/** Whether `fn` is a class that extends Model (of any copy of servegraph). */
export function isModelClass(fn: unknown): fn is new (options: ModelOptions) => Model {
  return (
    typeof fn === 'function' &&
    fn.prototype !== null &&
    typeof fn.prototype === 'object' &&
    (fn.prototype as Record<symbol, unknown>)[MODEL_BRAND] === true
  );
}

/** Whether `v` is a Model instance (of any copy of servegraph). */
export function isModel(v: unknown): v is Model {
  return v !== null && typeof v === 'object' && (v as Record<symbol, unknown>)[MODEL_BRAND] === true;
}
