import type { Logger } from 'pino';
import { SgError } from '../errors/index.js';
import type { ExecCall, ModelExecutor } from '../executors/executor.js';
import { checkName } from '../graph/names.js';
import type { LiveMetrics } from '../monitoring/types.js';
import type { LoadTracker } from '../server/load-tracker.js';
import { isShorthand } from './artifacts/model-artifact.js';
import { type AddModelOptions, type EndpointDef, invalidOption, type ModelDef, makeModelDef } from './endpoint.js';
import { buildExecutors } from './executor-factory.js';
import {
  checkPoolResources,
  defaultPoolResources,
  type PoolResourceOptions,
  type PoolResources,
} from './pool-resources.js';
import type { Artifact } from './types.js';

export type AddSharedModelOptions = Omit<
  AddModelOptions,
  'endpointName' | 'labels' | 'modelEndpointCreationStrategy'
> & { name: string };

const KEYS = [
  'name',
  'modelClass',
  'executionMechanism',
  'modelArtifact',
  'inputPath',
  'resultPath',
  'inputs',
  'outputs',
  'override',
  'modelParameters',
  'timeoutMs',
  'maxConcurrentCalls',
];

/** The graph's shared models and the sizing of its graph-level executor (model-runner.md section 7). */
export class SharedModels {
  readonly defs = new Map<string, ModelDef>();
  resources: PoolResources = defaultPoolResources();
  /** @internal the options as given, for spec files */
  resourceOptions: PoolResourceOptions = {};

  /** @internal the shared models used by proxies in the running server, name → forwarding executor */
  private used = new Map<string, ForwardingExecutor>();
  /** shared model → its proxies (endpoint name → the proxy's artifact), for the model's proxy map */
  private proxies = new Map<string, Map<string, Artifact | undefined>>();
  private executors: ModelExecutor[] = [];

  /** @internal A runner's proxy asks for its shared model's executor (made when the graph starts). */
  executorFor(name: string, proxy?: { endpoint: string; artifact: Artifact | undefined }): ModelExecutor {
    let ex = this.used.get(name);
    if (ex === undefined) this.used.set(name, (ex = new ForwardingExecutor(`shared/${name}`)));
    if (proxy !== undefined) {
      let m = this.proxies.get(name);
      if (m === undefined) this.proxies.set(name, (m = new Map()));
      m.set(proxy.endpoint, proxy.artifact);
    }
    return ex;
  }

  /** @internal Start the graph-level executor: each used shared model loaded once; unused ones only warned about. */
  async _start(ctx: {
    baseDir: string;
    logger: Logger;
    resolve: (ref: string, step: string | undefined, what: string) => Promise<unknown>;
    loads?: LoadTracker;
    /** the pools' gauges, when metrics are attached */
    live?: LiveMetrics;
  }): Promise<void> {
    for (const name of this.defs.keys()) {
      if (!this.used.has(name))
        ctx.logger.warn({ sharedModel: name }, `shared model '${name}' is used by no proxy: it is not loaded`);
    }
    // each shared model learns its proxies (MLRun's shared_proxy_mapping): an LLModel checks their prompts at load
    const defs = [...this.used.keys()].map((n) => ({ ...this.defs.get(n)!, proxies: this.proxies.get(n) }));
    if (defs.length === 0) return;
    const { byModel, all } = buildExecutors(defs, 'shared', this.resources, {
      baseDir: ctx.baseDir,
      step: undefined,
      resolve: (ref, what) => ctx.resolve(ref, undefined, what),
      logger: ctx.logger,
      live: ctx.live,
    });
    for (const [name, fwd] of this.used) fwd.target = byModel.get(name);
    this.executors = all;
    for (const d of defs) ctx.loads?.expect(d.name, byModel.get(d.name)!.copies);
    try {
      await Promise.all(all.map((e) => e.start((p) => ctx.loads?.loaded(p.model))));
    } catch (err) {
      ctx.loads?.failed(defs.map((d) => d.name));
      throw err;
    }
  }

  /** @internal */
  async _stop(graceMs: number): Promise<void> {
    const all = this.executors;
    this.executors = [];
    this.used = new Map();
    this.proxies = new Map();
    await Promise.allSettled(all.map((e) => e.close(graceMs)));
  }

  /** The names of the shared models with at least one proxy in the running server. */
  get usedNames(): string[] {
    return [...this.used.keys()];
  }

  add(options: AddSharedModelOptions): void {
    if (options === null || typeof options !== 'object')
      throw invalidOption(undefined, undefined, 'options', 'an object', options);
    const name = checkName(options.name, 'shared model name');
    for (const k of Object.keys(options))
      if (!KEYS.includes(k)) throw invalidOption(undefined, name, k, `one of ${KEYS.join(', ')} (unknown option)`, k);
    if (this.defs.has(name) && !options.override) {
      throw new SgError(
        'SG_ERR_DUPLICATE_SHARED_MODEL',
        `shared model '${name}' already exists; pass override: true to replace it`,
        { endpoint: name },
      );
    }
    this.defs.set(name, makeModelDef(options as unknown as Record<string, unknown>, name, undefined, true));
  }

  configure(options: PoolResourceOptions): void {
    this.resources = checkPoolResources(options, 'configureSharedPoolResource');
    this.resourceOptions = { ...options };
  }

  /** The shared model a proxy uses (model-runner.md section 7, "Finding the shared model"). */
  find(proxy: Extract<EndpointDef, { kind: 'proxy' }>, step: string): ModelDef {
    if (proxy.sharedModelName !== undefined) {
      const def = this.defs.get(proxy.sharedModelName);
      if (def === undefined) {
        throw new SgError(
          'SG_ERR_UNKNOWN_SHARED_MODEL',
          `runner '${step}', proxy '${proxy.name}': no shared model named '${proxy.sharedModelName}' (add it with graph.addSharedModel())`,
          {
            step,
            endpoint: proxy.name,
            details: { sharedModelName: proxy.sharedModelName },
          },
        );
      }
      if (proxy.artifact !== undefined && def.artifact !== undefined && !artifactsMatch(proxy.artifact, def.artifact)) {
        throw new SgError(
          'SG_ERR_SHARED_MODEL_MISMATCH',
          `runner '${step}', proxy '${proxy.name}': its modelArtifact does not match the artifact of shared model '${def.name}'`,
          {
            step,
            endpoint: proxy.name,
            details: { sharedModelName: def.name },
          },
        );
      }
      return def;
    }
    const matches = [...this.defs.values()].filter(
      (d) => d.artifact !== undefined && artifactsMatch(proxy.artifact!, d.artifact),
    );
    if (matches.length === 0) {
      throw new SgError(
        'SG_ERR_UNKNOWN_SHARED_MODEL',
        `runner '${step}', proxy '${proxy.name}': no shared model has an artifact matching '${modelKey(proxy.artifact!)}'`,
        {
          step,
          endpoint: proxy.name,
          details: { artifact: modelKey(proxy.artifact!) },
        },
      );
    }
    if (matches.length > 1) {
      throw new SgError(
        'SG_ERR_AMBIGUOUS_SHARED_MODEL',
        `runner '${step}', proxy '${proxy.name}': its artifact matches several shared models: ${matches.map((m) => `'${m.name}'`).join(', ')}; give sharedModelName`,
        {
          step,
          endpoint: proxy.name,
          details: { candidates: matches.map((m) => m.name) },
        },
      );
    }
    return matches[0];
  }
}

type ModelSide = { key: string; modelUrl?: string };

/** The model artifact behind an artifact (a prompt artifact links one). */
function modelSide(a: Artifact): ModelSide {
  const linked =
    (a as unknown as { kind?: string; modelArtifact?: ModelSide }).kind === 'llm-prompt'
      ? (a as unknown as { modelArtifact: ModelSide }).modelArtifact
      : a;
  return linked as ModelSide;
}

function modelKey(a: Artifact): string {
  return modelSide(a).key ?? modelSide(a).modelUrl ?? '(no key)';
}

/** Same model key; or, when either was made with the modelUrl shorthand, the same modelUrl. */
export function artifactsMatch(a: Artifact, b: Artifact): boolean {
  const x = modelSide(a);
  const y = modelSide(b);
  if (isShorthand(x) || isShorthand(y)) return x.modelUrl !== undefined && x.modelUrl === y.modelUrl;
  return x.key === y.key;
}

/** Stands for a shared model's executor until the graph-level executor is built at start-up. */
class ForwardingExecutor implements ModelExecutor {
  target: ModelExecutor | undefined;

  readonly copies = 0;

  constructor(readonly name: string) {}

  get queueDepth(): number {
    return this.target?.queueDepth ?? 0;
  }

  async start(): Promise<void> {}

  call(c: ExecCall): unknown {
    return this.started(c).call(c);
  }

  callStream(c: ExecCall): AsyncIterable<unknown> {
    const t = this.started(c);
    if (t.callStream === undefined) {
      throw new SgError('SG_ERR_STREAM_MECHANISM', `shared model of endpoint '${c.ctx.endpointName}' cannot stream`, {
        step: c.ctx.step,
        endpoint: c.ctx.endpointName,
      });
    }
    return t.callStream(c);
  }

  private started(c: ExecCall): ModelExecutor {
    if (this.target === undefined) {
      throw new SgError('SG_ERR_MODEL_UNAVAILABLE', `shared model of endpoint '${c.ctx.endpointName}' is not started`, {
        step: c.ctx.step,
        endpoint: c.ctx.endpointName,
      });
    }
    return this.target;
  }

  async close(): Promise<void> {}
}
