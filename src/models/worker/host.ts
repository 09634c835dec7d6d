import type { Usage } from '../../engine/stream-types.js';
import { errorText, placeError, SgError } from '../../errors/index.js';
import { deserializeError, findUncloneable, serializeError } from '../../errors/serialize.js';
import type {
  CallMessage,
  InitMessage,
  MainToWorker,
  PoolMechanism,
  PoolModelSpec,
  WireCallContext,
  WorkerToMain,
} from '../../executors/protocol.js';
import { isCloneFailure, RESULT } from '../../executors/protocol.js';
import { registerWorkerProviders } from '../../llm/providers/registry.js';
import { importReference } from '../../registry/references.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../util/logger.js';
import { artifactFromWire } from '../artifacts/any-artifact.js';
import { implementedMethods, isModelClass, type Model } from '../model.js';
import type { Artifact, ModelCallContext, ModelLogger } from '../types.js';
import { HostStream } from './host-stream.js';

/** How a worker talks to its pool: the thread's parentPort or the child process's IPC channel. */
export type HostPort = {
  send(msg: WorkerToMain): void;
  onMessage(fn: (msg: MainToWorker) => void): void;
};

type Loaded = {
  model: Model;
  /** predict, or predictAsync when only that is implemented; undefined for a streaming-only model */
  method: ((input: unknown, ctx: ModelCallContext) => unknown) | undefined;
  /** predictStream, when implemented */
  stream: ((input: unknown, ctx: ModelCallContext) => unknown) | undefined;
};

/**
 * What a worker thread or child process runs (model-runner.md section 8): on `init` it imports, builds and
 * loads every model of its pool once, then serves `call`s until `close`.
 */
export function runHost(port: HostPort): void {
  new Host(port);
}

class Host {
  private readonly models = new Map<string, Loaded>();
  private readonly calls = new Map<number, CallContext>();
  private readonly streams = new Map<number, HostStream>();
  private step = '';
  private pool = '';
  private mechanism: PoolMechanism = 'thread_pool';
  private artifactCache: { json: string; artifact: Artifact } | undefined;

  constructor(readonly port: HostPort) {
    port.onMessage((msg) => this.onMessage(msg));
  }

  private onMessage(msg: MainToWorker): void {
    if (Array.isArray(msg)) {
      this.onCall(msg);
      return;
    }
    switch (msg.t) {
      case 'cancel':
        // the signal first, then the generator's return() (a paused stream resumes to close it)
        this.calls.get(msg.id)?.abort(deserializeError(msg.reason));
        this.streams.get(msg.id)?.poke();
        return;
      case 'credit':
        this.streams.get(msg.id)?.grant(msg.n);
        return;
      case 'init':
        void this.init(msg);
        return;
      case 'close':
        void this.close();
        return;
      default:
        return;
    }
  }

  private async init(msg: InitMessage): Promise<void> {
    this.pool = msg.pool;
    this.step = msg.pool.split('/')[0];
    this.mechanism = msg.mechanism;
    const level = (LOG_LEVELS as readonly string[]).includes(msg.logLevel ?? '') ? (msg.logLevel as LogLevel) : 'warn';
    const logger = level === 'silent' ? undefined : createLogger(level).child({ pool: msg.pool });
    registerWorkerProviders(msg.providers ?? {});
    for (const spec of msg.models) {
      try {
        const loaded = await this.build(spec);
        if (logger) loaded.model._logger = modelLogger(logger.child({ endpoint: spec.name }));
        await loaded.model.load();
        this.models.set(spec.name, loaded);
        this.port.send({ t: 'loaded', model: spec.name });
      } catch (err) {
        const error =
          err instanceof SgError
            ? placeError(err, this.step, spec.name)
            : new SgError(
                'SG_ERR_MODEL_LOAD',
                `step '${this.step}': model '${spec.name}' failed to load: ${errorText(err)}`,
                {
                  step: this.step,
                  endpoint: spec.name,
                  cause: err,
                },
              );
        this.port.send({ t: 'load-error', model: spec.name, error: serializeError(error) });
        return;
      }
    }
    this.port.send({ t: 'ready' });
  }

  /** Import, check and construct one model (its load() is the caller's). */
  private async build(spec: PoolModelSpec): Promise<Loaded> {
    const Cls = await importReference(spec.classRef, process.cwd(), this.step, `model '${spec.name}'`);
    if (!isModelClass(Cls)) {
      throw new SgError(
        'SG_ERR_INVALID_CLASS',
        `step '${this.step}': model '${spec.name}': '${spec.classRef}' is not a class that extends Model`,
        { step: this.step, endpoint: spec.name, details: { reference: spec.classRef, expected: 'a Model class' } },
      );
    }
    const { modelArtifact, ...rest } = spec.options;
    const options = modelArtifact === undefined ? rest : { ...rest, modelArtifact: artifactFromWire(modelArtifact) };
    const model = new Cls(options);
    model._mechanism = this.mechanism;
    if (spec.proxies !== undefined) {
      const proxies = Object.entries(spec.proxies).map(([k, a]) => [k, a === null ? undefined : artifactFromWire(a)]);
      (model as { _proxies?: unknown })._proxies = new Map(proxies as [string, Artifact | undefined][]);
    }
    const impl = implementedMethods(model);
    if (!impl.predict && !impl.predictAsync && !impl.predictStream) {
      throw new SgError(
        'SG_ERR_PREDICT_NOT_IMPLEMENTED',
        `step '${this.step}': model '${spec.name}' (${Cls.name}, ${this.mechanism}) implements none of predict, predictAsync, predictStream`,
        { step: this.step, endpoint: spec.name, details: { mechanism: this.mechanism } },
      );
    }
    const method = impl.predict ? model.predict : impl.predictAsync ? model.predictAsync : undefined;
    const stream = impl.predictStream ? (model.predictStream as Loaded['stream']) : undefined;
    return { model, method: method as Loaded['method'], stream };
  }

  private onCall(msg: CallMessage): void {
    const id = msg[1];
    const entry = this.models.get(msg[2]);
    const streamed = msg[8]?.credit !== undefined;
    if (streamed && entry?.stream !== undefined) {
      void this.onStream(msg, entry.stream.bind(entry.model));
      return;
    }
    if (entry === undefined || entry.method === undefined || streamed) {
      const err =
        entry === undefined
          ? new SgError('SG_ERR_MODEL_UNAVAILABLE', `pool '${this.pool}' has no model '${msg[2]}'`)
          : new SgError(
              'SG_ERR_PREDICT_NOT_IMPLEMENTED',
              `model '${msg[2]}' implements ${streamed ? 'no predictStream' : 'neither predict nor predictAsync'} (${this.mechanism})`,
              { details: { mechanism: this.mechanism } },
            );
      this.port.send({ t: 'error', id, error: serializeError(err) });
      return;
    }
    const extra = msg[8];
    let ctx: CallContext;
    let out: unknown;
    try {
      ctx = new CallContext(this, id, msg, extra, extra === undefined ? undefined : this.artifact(extra.artifact));
      out = entry.method.call(entry.model, msg[3], ctx);
    } catch (err) {
      this.fail(id, err);
      return;
    }
    if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then === 'function') {
      // only a call still running can be cancelled: a synchronous one is answered before any cancel arrives
      this.calls.set(id, ctx);
      (out as PromiseLike<unknown>).then(
        (v) => {
          this.calls.delete(id);
          this.succeed(id, v, ctx);
        },
        (err) => this.fail(id, err),
      );
    } else {
      this.succeed(id, out, ctx);
    }
  }

  /** A streamed call: the model's predictStream, its chunks sent under the credit the main side grants. */
  private async onStream(msg: CallMessage, predictStream: (input: unknown, ctx: ModelCallContext) => unknown) {
    const id = msg[1];
    const extra = msg[8];
    let ctx: CallContext;
    let it: AsyncIterator<unknown, unknown>;
    try {
      ctx = new CallContext(this, id, msg, extra, this.artifact(extra?.artifact));
      const gen = predictStream(msg[3], ctx) as AsyncIterable<unknown> | null;
      if (gen === null || typeof gen !== 'object' || typeof gen[Symbol.asyncIterator] !== 'function') {
        throw new SgError(
          'SG_ERR_MODEL_FAILED',
          `step '${ctx.step}': model '${ctx.endpointName}': predictStream must be an async generator method`,
          { step: ctx.step, endpoint: ctx.endpointName },
        );
      }
      it = gen[Symbol.asyncIterator]() as AsyncIterator<unknown, unknown>;
    } catch (err) {
      this.fail(id, err);
      return;
    }
    const c = ctx;
    const stream = new HostStream(extra?.credit ?? 1, () => c.cancelled());
    this.calls.set(id, c);
    this.streams.set(id, stream);
    const end = await stream.run(it, (value) => {
      try {
        this.port.send({ t: 'chunk', id, value });
      } catch (err) {
        throw isCloneFailure(err) ? notCloneableOut(value, err, c, 'chunk') : err;
      }
    });
    this.streams.delete(id);
    if (end.ok) {
      this.calls.delete(id);
      this.succeed(id, end.value, c);
    } else {
      this.fail(id, end.error);
    }
  }

  private succeed(id: number, value: unknown, ctx: CallContext): void {
    if (value !== null && typeof value === 'object' && Symbol.asyncIterator in value) {
      const err = new SgError(
        'SG_ERR_STREAM_UNDECLARED',
        `step '${ctx.step}': model '${ctx.endpointName}' returned an async iterable from predict/predictAsync: use predictStream`,
        { step: ctx.step, endpoint: ctx.endpointName },
      );
      this.port.send({ t: 'error', id, error: serializeError(err) });
      return;
    }
    try {
      // a batch output with failed items: each error crosses as its serialised form (model-runner.md section 8)
      let errorsAt: number[] | undefined;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (value[i] instanceof Error) (errorsAt ??= []).push(i);
      }
      if (errorsAt === undefined) this.port.send([RESULT, id, value]);
      else {
        const out = [...(value as unknown[])];
        for (const i of errorsAt) out[i] = serializeError(out[i]);
        this.port.send([RESULT, id, out, errorsAt]);
      }
    } catch (err) {
      if (!isCloneFailure(err)) {
        this.port.send({ t: 'error', id, error: serializeError(err) });
        return;
      }
      this.port.send({ t: 'error', id, error: serializeError(notCloneableOut(value, err, ctx, 'output')) });
    }
  }

  private fail(id: number, err: unknown): void {
    this.calls.delete(id);
    this.port.send({ t: 'error', id, error: serializeError(err) });
  }

  /** The call's artifact, rebuilt from JSON (the last one is kept: calls of one endpoint repeat it). */
  artifact(json: Record<string, unknown> | undefined): Artifact | undefined {
    if (json === undefined) return undefined;
    const key = JSON.stringify(json);
    if (this.artifactCache?.json !== key) this.artifactCache = { json: key, artifact: artifactFromWire(json) };
    return this.artifactCache.artifact;
  }

  private async close(): Promise<void> {
    for (const [name, { model }] of this.models) {
      try {
        await model.close();
      } catch (err) {
        model.logger.error(`model '${name}' close() failed: ${errorText(err)}`);
      }
    }
    this.port.send({ t: 'closed' });
  }
}

/** A model call's ctx: the signal is made on first use (an AbortController per call is costly). */
class CallContext implements ModelCallContext {
  readonly endpointName: string;
  readonly step: string;
  readonly eventId: string;
  readonly path: string;
  readonly batch: { readonly size: number } | undefined;
  readonly trace: { traceparent: string; tracestate?: string } | undefined;
  private controller: AbortController | undefined = undefined;
  private reason: unknown = undefined;
  private aborted = false;

  constructor(
    private readonly host: Host,
    private readonly id: number,
    msg: CallMessage,
    extra: Pick<WireCallContext, 'batch' | 'trace'> | undefined,
    readonly artifact: Artifact | undefined,
  ) {
    this.endpointName = msg[4];
    this.step = msg[5];
    this.eventId = msg[6];
    this.path = msg[7];
    this.batch = extra?.batch;
    this.trace = extra?.trace;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Once the call was cancelled: why. */
  cancelled(): { reason: unknown } | undefined {
    return this.aborted ? { reason: this.reason } : undefined;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }

  recordUsage(usage: Usage): void {
    try {
      this.host.port.send({ t: 'usage', id: this.id, usage });
    } catch {
      // usage that cannot be cloned is not reported
    }
  }
}

/** SG_ERR_NOT_CLONEABLE for a value the model gave back (`what`: 'output' or 'chunk'). */
function notCloneableOut(value: unknown, err: unknown, ctx: CallContext, what: string): SgError {
  const found = findUncloneable(value);
  const type = found?.type ?? String((err as Error).message);
  const at = found ? `${what}${found.at}` : what;
  return new SgError(
    'SG_ERR_NOT_CLONEABLE',
    `step '${ctx.step}': model '${ctx.endpointName}' ${what === 'chunk' ? 'yielded a chunk' : 'returned an output'} that cannot be cloned: ${type} at ${at}`,
    { step: ctx.step, endpoint: ctx.endpointName, details: { direction: 'out', type, path: at } },
  );
}

function modelLogger(log: {
  debug: (m: string, ...a: unknown[]) => void;
  info: (m: string, ...a: unknown[]) => void;
  warn: (m: string, ...a: unknown[]) => void;
  error: (m: string, ...a: unknown[]) => void;
}): ModelLogger {
  return {
    debug: (m, ...a) => log.debug(m, ...a),
    info: (m, ...a) => log.info(m, ...a),
    warn: (m, ...a) => log.warn(m, ...a),
    error: (m, ...a) => log.error(m, ...a),
  };
}
