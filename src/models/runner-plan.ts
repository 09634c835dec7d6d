import type { CompileContext } from '../engine/processor.js';
import { describe, errorText, SgError } from '../errors/index.js';
import type { ModelExecutor } from '../executors/executor.js';
import type { EndpointDefinition, LiveGauge } from '../monitoring/types.js';
import { artifactFile } from './artifacts/model-artifact.js';
import type { EndpointDef, ModelDef } from './endpoint.js';
import { buildExecutors } from './executor-factory.js';
import type { ModelRunnerStep } from './model-runner-step.js';
import { type ModelTraits, modelTraits } from './model-traits.js';
import { isSelector, isSelectorClass, type ModelSelector } from './selector.js';
import type { ModelEntry } from './types.js';

/** One endpoint of a running runner: what it runs and where. */
export type Target = {
  readonly name: string;
  readonly endpoint: EndpointDef;
  /** the model definition (a proxy's: its shared model's) */
  readonly def: ModelDef;
  readonly executor: ModelExecutor;
  readonly entry: ModelEntry;
  /** the model's name inside its executor (the endpoint's, or the shared model's) */
  readonly modelName: string;
  /** what the runner knows of the model's class (undefined: a reference that does not resolve) */
  readonly traits: ModelTraits | undefined;
  /** the endpoint's `servegraph_model_in_flight`, when metrics are attached */
  readonly inFlight: LiveGauge | undefined;
};

/** A runner as it runs: its selector, its endpoints' executors, and their start and close. */
export class RunnerPlan {
  readonly byName = new Map<string, Target>();

  /** the runner holds a streaming model (streaming.md rule 4): it is a streaming step */
  get streams(): boolean {
    return this.targets.some((t) => t.traits?.streams === true);
  }

  private constructor(
    readonly step: ModelRunnerStep,
    readonly targets: Target[],
    readonly entries: readonly ModelEntry[],
    readonly selector: ModelSelector | undefined,
    private readonly own: ModelExecutor[],
    private readonly ctx: CompileContext,
  ) {
    for (const t of targets) this.byName.set(t.name, t);
  }

  static async create(step: ModelRunnerStep, ctx: CompileContext): Promise<RunnerPlan> {
    const graph = ctx.graph;
    const ownDefs = step._endpoints.flatMap((e) => (e.kind === 'model' ? [e.model] : []));
    const { byModel, all } = buildExecutors(ownDefs, step.name, step._resources, {
      baseDir: graph.baseDir,
      step: step.name,
      resolve: (ref, what) => ctx.resolve(ref, step.name, what),
      logger: ctx.logger,
      live: ctx.monitor?.liveMetrics?.(),
    });
    const resolve = (ref: string, what: string) => ctx.resolve(ref, step.name, what);
    const live = ctx.monitor?.liveMetrics?.();
    const targets: Target[] = [];
    for (const e of step._endpoints) {
      const def = e.kind === 'model' ? e.model : graph._shared.find(e, step.name);
      const executor =
        e.kind === 'model'
          ? byModel.get(def.name)!
          : graph._shared.executorFor(def.name, { endpoint: e.name, artifact: e.artifact ?? def.artifact });
      const entry: ModelEntry = Object.freeze({
        name: e.name,
        endpointName: e.name,
        executionMechanism: e.kind === 'proxy' ? 'shared_executor' : def.mechanism,
        modelClass: def.classLabel,
        labels: Object.freeze({ ...e.labels }),
        modelArtifact: e.kind === 'proxy' ? (e.artifact ?? def.artifact) : def.artifact,
      });
      targets.push({
        name: e.name,
        endpoint: e,
        def,
        executor,
        entry,
        modelName: def.name,
        traits: await modelTraits(def, resolve, entry.modelArtifact),
        inFlight: live?.inFlight(step.name, e.name),
      });
    }
    for (const d of ownDefs) ctx.loads?.expect(d.name, byModel.get(d.name)!.copies);
    const selector = await makeSelector(step, ctx);
    return new RunnerPlan(step, targets, Object.freeze(targets.map((t) => t.entry)), selector, all, ctx);
  }

  /** Load every model of this runner (all pools at once) and declare its endpoints to monitoring. */
  async start(): Promise<void> {
    const monitor = this.ctx.monitor;
    const names = this.targets.map((t) => t.name);
    for (const t of this.targets) {
      if (t.endpoint.kind === 'model' && t.def.outputsReplaced !== undefined) {
        this.ctx.logger.warn(
          { step: this.step.name, endpoint: t.name },
          `endpoint '${t.name}': outputs ${JSON.stringify(t.def.outputsReplaced)} replaced by ${JSON.stringify(t.def.outputs)} (fixed by ${t.def.classLabel})`,
        );
      }
    }
    // the creation strategies apply before the models load (monitoring.md section 2)
    await monitor?.registerEndpoints(
      this.targets.map((t) => endpointDefinition(t, this.step.name)),
      'loading',
    );
    const loads = this.ctx.loads;
    try {
      await Promise.all(this.own.map((e) => e.start((p) => loads?.loaded(p.model))));
    } catch (err) {
      loads?.failed(names);
      await this.closeExecutors();
      monitor?.setState(names, 'error', errorText(err));
      throw err;
    }
    monitor?.setState(names, 'serving');
  }

  async close(): Promise<void> {
    await this.closeExecutors();
    this.ctx.monitor?.setState(
      this.targets.map((t) => t.name),
      'stopped',
    );
  }

  private async closeExecutors(): Promise<void> {
    await Promise.allSettled(this.own.map((e) => e.close(0)));
  }
}

async function makeSelector(step: ModelRunnerStep, ctx: CompileContext): Promise<ModelSelector | undefined> {
  const ref = step.modelSelector;
  if (ref === undefined) return undefined;
  if (isSelector(ref)) return ref;
  const cls = typeof ref === 'string' ? await ctx.resolve(ref, step.name, 'modelSelector') : ref;
  if (!isSelectorClass(cls)) {
    throw new SgError(
      'SG_ERR_INVALID_CLASS',
      `runner '${step.name}': modelSelector ${typeof ref === 'string' ? `'${ref}'` : ''} is ${describe(cls)}, expected a class with a select(event, availableModels) method`,
      {
        step: step.name,
        details: { reference: typeof ref === 'string' ? ref : describe(ref), expected: 'a ModelSelector class' },
      },
    );
  }
  try {
    return new cls({ ...step.modelSelectorParameters });
  } catch (err) {
    if (err instanceof SgError) throw err;
    throw new SgError(
      'SG_ERR_STEP_INIT',
      `runner '${step.name}': constructing the selector failed: ${(err as Error)?.message ?? String(err)}`,
      {
        step: step.name,
        cause: err,
      },
    );
  }
}

function endpointDefinition(t: Target, step: string): EndpointDefinition {
  const a = t.entry.modelArtifact as { kind?: string; key?: string; modelUrl?: string } | undefined;
  // the artifact's inputs and outputs are the defaults of addModel's (model-runner.md section 1, ModelArtifact)
  type Schema = { inputs?: readonly string[]; outputs?: readonly string[] };
  const side = (x: unknown): Schema | undefined =>
    (x as { kind?: string } | undefined)?.kind === 'llm-prompt'
      ? (x as { modelArtifact?: Schema }).modelArtifact
      : (x as Schema | undefined);
  const schema = side(t.entry.modelArtifact) ?? side(t.def.artifact);
  const inputs = t.def.inputs ?? schema?.inputs;
  const outputs = t.def.outputs ?? schema?.outputs;
  return {
    name: t.name,
    step,
    kind: t.endpoint.kind,
    sharedModel: t.endpoint.kind === 'proxy' ? t.def.name : null,
    modelClass: t.def.classLabel,
    executionMechanism: t.def.mechanism,
    labels: { ...t.endpoint.labels },
    inputs: inputs === undefined ? null : [...inputs],
    outputs: outputs === undefined ? null : [...outputs],
    artifact:
      a === undefined
        ? null
        : {
            kind: a.kind === 'llm-prompt' ? 'llm-prompt' : 'model',
            key: a.key ?? '',
            modelUrl: a.modelUrl ?? null,
            path: artifactFile(a),
          },
    creationStrategy: t.endpoint.creationStrategy,
    artifactJson: a === undefined ? undefined : (a as { toJSON(): unknown }).toJSON(),
  };
}
