import type { CompileContext, Processor } from '../engine/processor.js';
import { describe, SgError } from '../errors/index.js';
import type { Graph } from '../graph/graph.js';
import { rejectUnknownOptions, Step, type StepSpecForm } from '../graph/step.js';
import { lookupRegistered } from '../registry/registry.js';
import {
  type AddModelOptions,
  type AddProxyOptions,
  type EndpointDef,
  type ModelDef,
  makeModelEndpoint,
  makeProxyEndpoint,
  workerLoadable,
} from './endpoint.js';
import { endpointSpec } from './endpoint-spec.js';
import { inMemoryTraits } from './model-traits.js';
import {
  checkPoolResources,
  defaultPoolResources,
  type PoolResourceOptions,
  type PoolResources,
} from './pool-resources.js';
import { RunnerPlan } from './runner-plan.js';
import { RunnerProcessor } from './runner-processor.js';
import { isSelector, isSelectorClass, type ModelSelector } from './selector.js';
import { WORKER_MECHANISMS } from './types.js';

export type SelectorRef = ModelSelector | (new (params: Record<string, unknown>) => ModelSelector) | string;

export type ModelRunnerStepOptions = {
  name?: string;
  /** chooses the endpoints per event; default: every endpoint runs */
  modelSelector?: SelectorRef;
  modelSelectorParameters?: Record<string, unknown>;
  /** alias of modelSelector (the seed's `model_runner_selector`) */
  modelRunnerSelector?: SelectorRef;
  /** whether a failed model fails the event (default true) */
  raiseException?: boolean;
};

const ALLOWED = ['name', 'modelSelector', 'modelSelectorParameters', 'modelRunnerSelector', 'raiseException'] as const;

/**
 * Runs one or more models on each event, each in its own execution mechanism, and merges their
 * outputs by endpoint name (model-runner.md). MLRun's ModelRunnerStep.
 */
export class ModelRunnerStep extends Step<unknown, unknown> {
  readonly modelSelector: SelectorRef | undefined;
  readonly modelSelectorParameters: Readonly<Record<string, unknown>> | undefined;
  readonly raiseException: boolean;
  /** @internal endpoints in addModel / addSharedModelProxy order */
  readonly _endpoints: EndpointDef[] = [];
  /** @internal */ _resources: PoolResources = defaultPoolResources();
  /** @internal the options as given, for spec files */
  _resourceOptions: PoolResourceOptions | undefined;
  /** @internal built at start-up */
  _plan: RunnerPlan | undefined;

  constructor(options: ModelRunnerStepOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new SgError('SG_ERR_INVALID_OPTION', `ModelRunnerStep options must be an object, got ${describe(options)}`);
    }
    for (const k of ['inputPath', 'resultPath', 'fullEvent']) {
      if (Object.hasOwn(options, k)) {
        const name = typeof options.name === 'string' ? options.name : 'ModelRunnerStep';
        throw new SgError(
          'SG_ERR_INVALID_OPTION',
          `ModelRunnerStep '${name}': ${k} is not an option of a runner; its models declare their own paths in addModel()`,
          {
            step: name,
            details: { field: k },
          },
        );
      }
    }
    rejectUnknownOptions('ModelRunnerStep', options, ALLOWED);
    super({ name: options.name });
    if (options.modelSelector !== undefined && options.modelRunnerSelector !== undefined) {
      throw this.optionError(
        'modelRunnerSelector',
        'absent when modelSelector is given (it is its alias)',
        options.modelRunnerSelector,
      );
    }
    const selector = options.modelSelector ?? options.modelRunnerSelector;
    if (
      selector !== undefined &&
      !(typeof selector === 'string' && selector !== '') &&
      !isSelector(selector) &&
      !isSelectorClass(selector)
    ) {
      throw this.optionError('modelSelector', 'a ModelSelector instance, class, or class-reference string', selector);
    }
    const params = options.modelSelectorParameters;
    if (params !== undefined) {
      if (params === null || typeof params !== 'object' || Array.isArray(params))
        throw this.optionError('modelSelectorParameters', 'an object', params);
      if (isSelector(selector))
        throw this.optionError('modelSelectorParameters', 'absent when modelSelector is an instance', params);
    }
    if (options.raiseException !== undefined && typeof options.raiseException !== 'boolean') {
      throw this.optionError('raiseException', 'a boolean', options.raiseException);
    }
    this.modelSelector = selector;
    this.modelSelectorParameters = params;
    this.raiseException = options.raiseException ?? true;
  }

  /** Add a model endpoint (model-runner.md section 3); returns the step. */
  addModel(options: AddModelOptions): this {
    this._graph?._assertMutable();
    this.putEndpoint(makeModelEndpoint(options, this.name), options?.override === true);
    return this;
  }

  /** Add a proxy of a shared model (model-runner.md section 7); returns the step. */
  addSharedModelProxy(options: AddProxyOptions): this {
    this._graph?._assertMutable();
    this.putEndpoint(makeProxyEndpoint(options, this.name), options?.override === true);
    return this;
  }

  /** Size this step's pools (model-runner.md section 8); omitted fields return to their defaults. */
  configurePoolResource(options: PoolResourceOptions): this {
    this._graph?._assertMutable();
    this._resources = checkPoolResources(options, `runner '${this.name}': configurePoolResource`);
    this._resourceOptions = { ...options };
    return this;
  }

  /** The endpoint names, in order. */
  get endpointNames(): string[] {
    return this._endpoints.map((e) => e.name);
  }

  override _streamRole(): 'runner' {
    return 'runner';
  }

  override _canHandleErrors(): boolean {
    return false;
  }

  override _kindLabel(): string {
    return 'model runner';
  }

  override _drawingExtra(): string[] {
    return this._endpoints.map((e) => `${e.name} (${e.kind === 'proxy' ? 'shared_executor' : e.model.mechanism})`);
  }

  /** A runner holding a streaming model is a streaming step (streaming.md rule 4). */
  override _streams(): boolean {
    if (this._plan !== undefined) return this._plan.streams;
    return this._endpoints.some((e) => this.streamingDef(e) !== undefined);
  }

  /** Rules 6 and 7 and the mechanism rule of streaming.md, per endpoint. */
  override _checkStreaming(): void {
    const streaming = this._endpoints.filter((e) => this.streamingDef(e) !== undefined);
    if (streaming.length === 0) return;
    if (this._endpoints.length > 1 && this.modelSelector === undefined) {
      const names = streaming.map((e) => `'${e.name}'`).join(', ');
      const others = this._endpoints.length - streaming.length;
      throw new SgError(
        'SG_ERR_STREAM_PARALLEL',
        `runner '${this.name}' holds streaming model${streaming.length > 1 ? 's' : ''} ${names}${others > 0 ? ` and ${others} other model${others > 1 ? 's' : ''}` : ''} but no modelSelector; add a selector that picks one streaming model per event`,
        { step: this.name, details: { streaming: streaming.map((e) => e.name) } },
      );
    }
    for (const e of streaming) {
      const def = this.streamingDef(e)!;
      if (def.mechanism === 'process_pool' || def.mechanism === 'dedicated_process') {
        throw new SgError(
          'SG_ERR_STREAM_MECHANISM',
          `runner '${this.name}', endpoint '${e.name}': a streaming model cannot run in ${def.mechanism}${e.kind === 'proxy' ? ` (shared model '${def.name}')` : ''}; use naive, asyncio or thread_pool`,
          { step: this.name, endpoint: e.name, details: { mechanism: def.mechanism } },
        );
      }
    }
  }

  /** The model definition of an endpoint whose model streams, else undefined. */
  private streamingDef(e: EndpointDef): ModelDef | undefined {
    const target = this._plan?.byName.get(e.name);
    if (target !== undefined) return target.traits?.streams ? target.def : undefined;
    let def: ModelDef | undefined;
    if (e.kind === 'model') def = e.model;
    else {
      try {
        def = this._graph?._shared.find(e, this.name);
      } catch {
        return undefined; // reported by the shared-model checks
      }
    }
    const artifact = e.kind === 'proxy' ? (e.artifact ?? def?.artifact) : def?.artifact;
    return def !== undefined && inMemoryTraits(def, artifact)?.streams ? def : undefined;
  }

  override _endpointNames(): string[] {
    return this.endpointNames;
  }

  override _checkAttach(graph: Graph): void {
    for (const e of this._endpoints) checkUniqueInGraph(graph, this, e.name);
  }

  override _validateInGraph(graph: Graph): void {
    if (this._endpoints.length === 0) {
      throw new SgError(
        'SG_ERR_NO_MODELS',
        `runner '${this.name}' has no endpoint: add one with addModel() or addSharedModelProxy()`,
        { step: this.name },
      );
    }
    for (const e of this._endpoints) checkUniqueInGraph(graph, this, e.name);
    for (const e of this._endpoints) if (e.kind === 'proxy') graph._shared.find(e, this.name);
    for (const e of this._endpoints) {
      const def = e.kind === 'proxy' ? graph._shared.find(e, this.name) : e.model;
      if (
        WORKER_MECHANISMS.includes(def.mechanism) &&
        !workerLoadable(def.modelClass) &&
        typeof def.modelClass === 'string' &&
        lookupKnown(def.modelClass)
      ) {
        throw new SgError(
          'SG_ERR_NOT_WORKER_LOADABLE',
          `runner '${this.name}', endpoint '${e.name}': '${def.classLabel}' is registered in memory only and cannot be loaded in a worker (${def.mechanism}); register it with { module: import.meta.url } or a 'module#Export' target`,
          {
            step: this.name,
            endpoint: e.name,
            details: { mechanism: def.mechanism },
          },
        );
      }
    }
  }

  override async _resolve(ctx: CompileContext): Promise<void> {
    this._plan = await RunnerPlan.create(this, ctx);
  }

  override _processor(ctx: CompileContext): Processor {
    return new RunnerProcessor(this, this._plan!, ctx);
  }

  override async _start(): Promise<void> {
    await this._plan!.start();
  }

  override async _stop(): Promise<void> {
    await this._plan?.close();
    this._plan = undefined;
  }

  override _specForm(classRef: (target: unknown, what: string) => string): StepSpecForm {
    const form: StepSpecForm = { kind: 'model_runner' };
    if (this.modelSelector !== undefined) {
      if (isSelector(this.modelSelector)) {
        throw new SgError(
          'SG_ERR_NOT_SERIALIZABLE',
          `runner '${this.name}': a selector instance exists in code only; give it as a registered name or 'module#Export'`,
          {
            step: this.name,
            details: { field: 'modelSelector' },
          },
        );
      }
      form.modelSelector = classRef(this.modelSelector, 'modelSelector');
    }
    if (this.modelSelectorParameters !== undefined) form.modelSelectorParameters = { ...this.modelSelectorParameters };
    if (!this.raiseException) form.raiseException = false;
    if (this._resourceOptions !== undefined) form.pool = { ...this._resourceOptions };
    const models: Record<string, unknown> = {};
    for (const e of this._endpoints) models[e.name] = endpointSpec(e, this.name, classRef);
    form.models = models;
    return form;
  }

  private putEndpoint(e: EndpointDef, override: boolean): void {
    const at = this._endpoints.findIndex((x) => x.name === e.name);
    if (at >= 0 && !override) {
      throw new SgError(
        'SG_ERR_DUPLICATE_ENDPOINT',
        `runner '${this.name}' already has an endpoint '${e.name}'; pass override: true to replace it`,
        {
          step: this.name,
          endpoint: e.name,
          details: { steps: [this.name] },
        },
      );
    }
    if (this._graph !== undefined) checkUniqueInGraph(this._graph, this, e.name);
    if (at >= 0) this._endpoints[at] = e;
    else this._endpoints.push(e);
  }
}

/** Endpoint names are unique in the whole graph, even with override (model-runner.md section 3). */
function checkUniqueInGraph(graph: Graph, self: Step<unknown, unknown>, name: string): void {
  for (const other of graph._steps.values()) {
    if (other === self) continue;
    if (other._endpointNames().includes(name)) {
      // both steps in graph order (a step not yet in the graph comes last)
      const order = [...graph._steps.values()];
      const rank = (s: Step<unknown, unknown>) => (order.includes(s) ? order.indexOf(s) : order.length);
      const [first, second] = rank(other) < rank(self) ? [other, self] : [self, other];
      throw new SgError(
        'SG_ERR_DUPLICATE_ENDPOINT',
        `endpoint '${name}' is in runner '${first.name}' and in runner '${second.name}': endpoint names are unique in a graph`,
        {
          step: second.name,
          endpoint: name,
          details: { steps: [first.name, second.name] },
        },
      );
    }
  }
}

/** A registered name known now (unknown names fail at start-up with SG_ERR_UNKNOWN_CLASS instead). */
function lookupKnown(name: string): boolean {
  return lookupRegistered(name) !== undefined;
}
