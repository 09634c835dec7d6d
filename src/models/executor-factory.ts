import type { Logger } from 'pino';
import type { ExecCall, ModelExecutor } from '../executors/executor.js';
import { InlineExecutor } from '../executors/inline-executor.js';
import { type PoolCall, WorkerPool } from '../executors/worker-pool.js';
import { workerProviderRefs } from '../llm/providers/registry.js';
import type { LiveMetrics } from '../monitoring/types.js';
import { wireArtifact } from './artifacts/any-artifact.js';
import type { ModelDef } from './endpoint.js';
import { loadInlineModel } from './load-model.js';
import { implementedMethods } from './model.js';
import type { ModelLogger } from './types.js';
import { workerClassRef } from './worker-refs.js';

type Resolve = (ref: string, what: string) => Promise<unknown>;

/** A main-thread model (naive, asyncio): loaded at start(), then run by an InlineExecutor. */
export class InlineModelExecutor implements ModelExecutor {
  private inner: InlineExecutor | undefined;

  constructor(
    private readonly def: ModelDef,
    private readonly step: string | undefined,
    private readonly resolve: Resolve,
    private readonly logger: ModelLogger,
  ) {}

  get name(): string {
    return this.def.name;
  }

  readonly copies = 1;

  get queueDepth(): number {
    return this.inner?.queueDepth ?? 0;
  }

  async start(onLoaded?: (p: { model: string }) => void): Promise<void> {
    const model = await loadInlineModel(this.def, this.step, this.resolve, this.logger);
    const mechanism = this.def.mechanism === 'asyncio' ? 'asyncio' : 'naive';
    this.inner = new InlineExecutor(
      this.def.name,
      model,
      mechanism,
      implementedMethods(model),
      this.def.maxConcurrentCalls,
    );
    onLoaded?.({ model: this.def.name });
  }

  call(c: ExecCall): unknown {
    return this.inner!.call(c);
  }

  callStream(c: ExecCall): AsyncIterable<unknown> {
    return this.inner!.callStream(c);
  }

  async close(): Promise<void> {
    await this.inner?.close();
  }
}

/** A pool of worker threads or processes (thread_pool, process_pool, dedicated_process) as a ModelExecutor. */
export class PoolExecutor implements ModelExecutor {
  private readonly pool: WorkerPool;

  constructor(
    name: string,
    mechanism: 'thread_pool' | 'process_pool' | 'dedicated_process',
    size: number,
    defs: ModelDef[],
    maxQueue: number,
    baseDir: string,
    step: string | undefined,
    logger: Logger,
    live: LiveMetrics | undefined,
  ) {
    this.pool = new WorkerPool({
      name,
      kind: mechanism === 'thread_pool' ? 'thread' : 'process',
      mechanism,
      size,
      maxQueue,
      logger,
      gauges: live?.pool(name, mechanism),
      models: defs.map((d) => ({
        name: d.name,
        classRef: workerClassRef(d, baseDir, step),
        options: {
          name: d.name,
          modelParameters: d.modelParameters,
          modelArtifact: d.artifact === undefined ? undefined : wireArtifact(d.artifact),
          inputPath: d.inputPath ? [...d.inputPath.segments] : undefined,
          resultPath: d.resultPath ? [...d.resultPath.segments] : undefined,
        },
        proxies:
          d.proxies === undefined
            ? undefined
            : Object.fromEntries([...d.proxies].map(([k, a]) => [k, a === undefined ? null : wireArtifact(a)])),
        maxConcurrentCalls: d.maxConcurrentCalls ?? 1,
      })),
      providers: workerProviderRefs(baseDir),
    });
  }

  get name(): string {
    return this.pool.name;
  }

  get copies(): number {
    return this.pool.size;
  }

  get queueDepth(): number {
    return this.pool.queueDepth;
  }

  start(onLoaded?: (p: { model: string }) => void): Promise<void> {
    return this.pool.start(onLoaded);
  }

  call(c: ExecCall): unknown {
    return this.pool.call(poolCall(c));
  }

  callStream(c: ExecCall): AsyncIterable<unknown> {
    return this.pool.callStream(poolCall(c));
  }

  close(graceMs: number): Promise<void> {
    return this.pool.close(graceMs);
  }
}

/** A runner's call as a pool call: the artifact in JSON form, usage and start reported back to the call. */
function poolCall(c: ExecCall): PoolCall {
  return {
    model: c.model,
    input: c.input,
    ctx: { ...c.ctx, artifact: c.artifactJson() },
    signal: c.signal,
    timeoutMs: c.timeoutMs,
    onUsage: (u: unknown) => c.onUsage(u),
    onStart: c.onStart === undefined ? undefined : () => c.onStart!(),
  };
}

/**
 * The executors of a set of model definitions, grouped as model-runner.md section 8 says: one inline
 * executor per main-thread model, one thread pool and one process pool for the whole set, and one
 * process per dedicated model. Returns model name → executor.
 */
export function buildExecutors(
  defs: ModelDef[],
  prefix: string,
  resources: { maxThreads: number; maxProcesses: number; poolFactor: number; maxQueue: number },
  ctx: { baseDir: string; step: string | undefined; resolve: Resolve; logger: Logger; live?: LiveMetrics },
): { byModel: Map<string, ModelExecutor>; all: ModelExecutor[] } {
  const byModel = new Map<string, ModelExecutor>();
  const all: ModelExecutor[] = [];
  const modelLogger = (name: string): ModelLogger => ctx.logger.child({ endpoint: name }) as unknown as ModelLogger;
  for (const d of defs) {
    if (d.mechanism === 'naive' || d.mechanism === 'asyncio') {
      const ex = new InlineModelExecutor(d, ctx.step, ctx.resolve, modelLogger(d.name));
      byModel.set(d.name, ex);
      all.push(ex);
    } else if (d.mechanism === 'dedicated_process') {
      const ex = new PoolExecutor(
        `${prefix}/${d.name}`,
        'dedicated_process',
        1,
        [d],
        resources.maxQueue,
        ctx.baseDir,
        ctx.step,
        ctx.logger,
        ctx.live,
      );
      byModel.set(d.name, ex);
      all.push(ex);
    }
  }
  for (const [mechanism, cap] of [
    ['thread_pool', resources.maxThreads],
    ['process_pool', resources.maxProcesses],
  ] as const) {
    const group = defs.filter((d) => d.mechanism === mechanism);
    if (group.length === 0) continue;
    const size = Math.min(group.length * resources.poolFactor, cap);
    const ex = new PoolExecutor(
      `${prefix}/${mechanism}`,
      mechanism,
      size,
      group,
      resources.maxQueue,
      ctx.baseDir,
      ctx.step,
      ctx.logger,
      ctx.live,
    );
    for (const d of group) byModel.set(d.name, ex);
    all.push(ex);
  }
  return { byModel, all };
}
