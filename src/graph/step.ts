import type { CompileContext, Processor } from '../engine/processor.js';
import { describe, SgError } from '../errors/index.js';
import type { Graph } from './graph.js';
import { checkName } from './names.js';
import { type Path, parsePath } from './paths.js';
import type { StepContext, StepOptions } from './types.js';

/** Marks Step classes of every copy of servegraph (a user module may import another copy than the server's). */
const STEP_BRAND = Symbol.for('servegraph.Step');
const BASE_DO = Symbol.for('servegraph.Step.baseDo');

/** Fields of StepOptions that are not a user step's own parameters. */
const COMMON = new Set(['name', 'inputPath', 'resultPath', 'fullEvent', 'streaming', 'collect']);

/** What a step writes into a spec file (graph.md section 11), besides name, after, responder and onError. */
export type StepSpecForm = {
  kind?: 'task' | 'model_runner';
  class?: string;
  handler?: string;
  params?: Record<string, unknown>;
  [field: string]: unknown;
};

/**
 * A step of a flow graph. User steps extend it and implement `do(input, ctx)` (graph.md section 8);
 * built-in steps extend it too and give the engine their own processor.
 */
export class Step<In = unknown, Out = unknown> {
  readonly name: string;
  readonly inputPath: Path | undefined;
  readonly resultPath: Path | undefined;
  readonly fullEvent: boolean;
  readonly streaming: boolean;
  readonly collect: ((chunks: unknown[], summary: unknown) => unknown) | undefined;

  /** @internal the graph this step belongs to */
  _graph: Graph | undefined;
  /** @internal marked with respond() */
  _responder = false;
  /** @internal the user's own parameters (options minus the common ones), for spec files */
  readonly _params: Record<string, unknown>;

  constructor(options: StepOptions = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new SgError('SG_ERR_INVALID_OPTION', `step options must be an object, got ${describe(options)}`);
    }
    const name = options.name === undefined ? new.target.name : options.name;
    this.name = checkName(name, 'step name', typeof name === 'string' ? name : undefined);
    const fullEvent = options.fullEvent ?? false;
    if (typeof fullEvent !== 'boolean') throw this.optionError('fullEvent', 'a boolean', fullEvent);
    this.fullEvent = fullEvent;
    this.inputPath = parsePath(options.inputPath, this.name, 'inputPath');
    this.resultPath = parsePath(options.resultPath, this.name, 'resultPath');
    if (fullEvent && (this.inputPath || this.resultPath)) {
      throw new SgError(
        'SG_ERR_INVALID_OPTION',
        `step '${this.name}': fullEvent cannot be combined with ${this.inputPath ? 'inputPath' : 'resultPath'}`,
        { step: this.name, details: { field: 'fullEvent' } },
      );
    }
    if (options.streaming !== undefined && typeof options.streaming !== 'boolean') {
      throw this.optionError('streaming', 'a boolean', options.streaming);
    }
    if (options.collect !== undefined && typeof options.collect !== 'function') {
      throw this.optionError('collect', 'a function (chunks, summary) => value', options.collect);
    }
    this.collect = options.collect;
    this.streaming = options.streaming ?? isGeneratorFunction(this.streamSource(options));
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(options)) if (!COMMON.has(k)) params[k] = v;
    if (options.streaming !== undefined) params.streaming = options.streaming;
    this._params = params;
  }

  /**
   * Handle one event's input; its return value becomes the body, or is written at `resultPath`. A generator
   * method makes a streaming step (streaming.md): what it yields goes downstream as chunks.
   */
  do(input: In, ctx: StepContext): Out | Promise<Out> | AsyncGenerator<unknown, unknown> | Generator<unknown, unknown> {
    void input;
    void ctx;
    throw new SgError(
      'SG_ERR_INVALID_CLASS',
      `step '${this.name}' (${this.constructor.name}) does not implement do(input, ctx)`,
      {
        step: this.name,
      },
    );
  }

  /** Add `next` after this step and return it, so calls chain; adds only the edge when `next` is in the graph. */
  to<S extends Step<unknown, unknown>>(next: S): S {
    const graph = this._graph;
    if (!graph) {
      throw new SgError(
        'SG_ERR_STEP_NOT_IN_GRAPH',
        `step '${this.name}' is not in a graph: add it with graph.to() or graph.add() first`,
        {
          step: this.name,
        },
      );
    }
    graph._connect(this as Step<unknown, unknown>, next);
    return next;
  }

  /** Mark this step as the responder: its output answers the caller (graph.md section 3). */
  respond(): this {
    this._graph?._assertMutable();
    this._responder = true;
    return this;
  }

  /** Attach an error handler to this step (graph.md section 9); `before` lists the steps that continue after it. */
  errorHandler(
    handler: Step<unknown, unknown>,
    options: { before?: string | Step<unknown, unknown> | Array<string | Step<unknown, unknown>> } = {},
  ): this {
    const graph = this._graph;
    if (!graph) {
      throw new SgError(
        'SG_ERR_STEP_NOT_IN_GRAPH',
        `step '${this.name}' is not in a graph: add it before giving it an error handler`,
        {
          step: this.name,
        },
      );
    }
    graph._setStepErrorHandler(this as Step<unknown, unknown>, handler, options);
    return this;
  }

  /** @internal The function whose generator-ness decides `streaming` by default. */
  protected streamSource(_options: StepOptions): unknown {
    return this.do;
  }

  /** @internal Whether this step may serve as an error handler (MapStep and user steps). */
  _canHandleErrors(): boolean {
    return true;
  }

  /** @internal The short kind shown in drawings ('map', 'filter', 'step', ...). */
  _kindLabel(): string {
    return 'step';
  }

  /** @internal Checks of this step within its graph, run by graph.validate() (e.g. Choice needs a downstream step). */
  _validateInGraph(_graph: Graph): void {}

  /** @internal Whether this step produces a stream (streaming.md, "Declaring a streaming step"). */
  _streams(): boolean {
    return this.streaming;
  }

  /** @internal What the streaming rules need to know of this step's kind. */
  _streamRole(): 'collector' | 'batch' | 'flatMap' | 'runner' | undefined {
    return undefined;
  }

  /** @internal Streaming checks of the step itself (a runner's models: SG_ERR_STREAM_PARALLEL, SG_ERR_STREAM_MECHANISM). */
  _checkStreaming(): void {}

  /** @internal Model endpoint names this step holds (a ModelRunnerStep's), for graph-wide uniqueness. */
  _endpointNames(): string[] {
    return [];
  }

  /** @internal Checks made when the step is added to `graph` (a runner's endpoint names). */
  _checkAttach(_graph: Graph): void {}

  /** @internal Extra lines of the step's node in drawings (a ModelRunnerStep lists its endpoints). */
  _drawingExtra(): string[] {
    return [];
  }

  /** @internal Resolve string references (handlers, classes) at start-up. */
  async _resolve(_ctx: CompileContext): Promise<void> {}

  /** @internal The processor the engine runs this step with; undefined: the default `do()` processor. */
  _processor(_ctx: CompileContext): Processor | undefined {
    return undefined;
  }

  /** @internal Called once when a server starts (before ready); user steps override `init`. */
  async _start(): Promise<void> {
    const init = (this as { init?: () => unknown }).init;
    if (typeof init === 'function') await init.call(this);
  }

  /** @internal Called once when a server closes. */
  async _stop(): Promise<void> {
    const close = (this as { close?: () => unknown }).close;
    if (typeof close === 'function') await close.call(this);
  }

  /** @internal The spec-file form of this step (graph.md section 11). */
  _specForm(classRef: (target: unknown, what: string) => string): StepSpecForm {
    return { class: classRef(this.constructor, 'class'), params: { ...this._params } };
  }

  /** @internal the class name shown in messages */
  protected optionError(field: string, expected: string, got: unknown): SgError {
    return new SgError(
      'SG_ERR_INVALID_OPTION',
      `${this.constructor.name} '${this.name}': ${field} must be ${expected}, got ${describe(got)}`,
      {
        step: this.name,
        details: { field },
      },
    );
  }
}

/** Throw SG_ERR_INVALID_OPTION for fields a built-in step does not know. */
export function rejectUnknownOptions(kind: string, options: object, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      const name = (options as { name?: unknown }).name;
      const label = typeof name === 'string' ? `${kind} '${name}'` : kind;
      throw new SgError('SG_ERR_INVALID_OPTION', `${label}: unknown option '${key}' (allowed: ${allowed.join(', ')})`, {
        step: typeof name === 'string' ? name : undefined,
        details: { field: key },
      });
    }
  }
}

const GENERATOR_TAGS = new Set(['GeneratorFunction', 'AsyncGeneratorFunction']);

export function isGeneratorFunction(fn: unknown): boolean {
  return (
    typeof fn === 'function' && GENERATOR_TAGS.has((fn as { constructor?: { name?: string } }).constructor?.name ?? '')
  );
}

Object.defineProperty(Step.prototype, STEP_BRAND, { value: true });
Object.defineProperty(Step.prototype.do, BASE_DO, { value: true });

/** Whether `v` is a step, made with this copy of servegraph or another. */
export function isStep(v: unknown): v is Step<unknown, unknown> {
  return v !== null && typeof v === 'object' && (v as Record<symbol, unknown>)[STEP_BRAND] === true;
}

/** Whether `fn` is a class that extends Step (of any copy of servegraph). */
export function isStepClass(fn: unknown): fn is new (options: StepOptions) => Step<unknown, unknown> {
  return typeof fn === 'function' && isStep(fn.prototype) && fn.prototype !== Step.prototype;
}

/** Whether a step's `do` is the base one, i.e. the class does not implement `do`. */
export function hasOwnDo(step: Step<unknown, unknown>): boolean {
  return (step.do as unknown as Record<symbol, unknown>)[BASE_DO] !== true;
}
