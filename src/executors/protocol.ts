import { deserializeError, type SerializedError } from '../errors/serialize.js';

/**
 * The one message protocol between a pool and its workers, for threads (`postMessage`) and child processes
 * (`process.send` with advanced serialization) alike. Every message crosses by structured clone. Messages are
 * objects tagged by `t`, except the two of every call, `call` and `result`, which are tuples (arrays).
 */

export type PoolMechanism = 'thread_pool' | 'process_pool' | 'dedicated_process';

/** One model every worker of a pool loads at start-up (model-runner.md section 8). */
export type PoolModelSpec = {
  /** the endpoint (or shared model) name */
  name: string;
  /** an absolute `'file:///…/x.mjs#Export'` reference (or a package `pkg#Export`) */
  classRef: string;
  /** the Model constructor options; the artifact in its JSON form, rebuilt with `ModelArtifact.fromJSON` */
  options: {
    name: string;
    modelParameters?: Record<string, unknown>;
    modelArtifact?: Record<string, unknown>;
    inputPath?: string[];
    resultPath?: string[];
  };
  /** a shared model's proxies: endpoint name → the proxy's artifact (JSON form) */
  proxies?: Record<string, Record<string, unknown> | null>;
  /** calls one copy takes at once */
  maxConcurrentCalls: number;
};

/** The cloneable part of a model call's ctx (the signal and recordUsage cross as messages). */
export type WireCallContext = {
  endpointName: string;
  step: string;
  eventId: string;
  path: string;
  batch?: { size: number };
  trace?: { traceparent: string; tracestate?: string };
  /** the calling endpoint's artifact, JSON form */
  artifact?: Record<string, unknown>;
};

// ---- main -> worker ----
export type InitMessage = {
  t: 'init';
  pool: string;
  mechanism: PoolMechanism;
  models: PoolModelSpec[];
  /** the pool logger's level, for the models' loggers in the worker */
  logLevel?: string;
  /** LLM provider schemes registered on the main thread: scheme → 'url#Export', or null when not importable */
  providers?: Record<string, string | null>;
};
/**
 * A call, the hot path: a flat tuple rather than an object (no property names to write and read for every call:
 * measurably cheaper through the process channel). `extra` is present only when one of its fields is set.
 */
export type CallMessage = [
  t: typeof CALL,
  id: number,
  model: string,
  input: unknown,
  endpointName: string,
  step: string,
  eventId: string,
  path: string,
  extra?: CallExtra,
];
/** The optional part of a call; `credit`: a streamed call, with its initial window of chunks. */
export type CallExtra = Pick<WireCallContext, 'batch' | 'trace' | 'artifact'> & { credit?: number };
/** The first item of a call tuple. */
export const CALL = 0;
export type CancelMessage = { t: 'cancel'; id: number; reason: SerializedError };
/** a streamed call: the main side took `n` more chunks, the worker may send `n` more */
export type CreditMessage = { t: 'credit'; id: number; n: number };
export type CloseMessage = { t: 'close' };
export type MainToWorker = InitMessage | CallMessage | CancelMessage | CreditMessage | CloseMessage;

// ---- worker -> main ----
/** one model copy finished `load()` (progress reports) */
export type LoadedMessage = { t: 'loaded'; model: string };
/** every model of the worker is loaded */
export type ReadyMessage = { t: 'ready' };
export type LoadErrorMessage = { t: 'load-error'; model: string; error: SerializedError };
/** A call's output, the hot path: a tuple, like CallMessage. */
/**
 * `errorsAt`: a batch output holding errors at these positions, each sent as its SerializedError (a structured
 * clone would turn an SgError into a plain Error and lose its code).
 */
export type ResultMessage = [t: typeof RESULT, id: number, value: unknown, errorsAt?: number[]];
/** The first item of a result tuple. */
export const RESULT = 1;
export type ErrorMessage = { t: 'error'; id: number; error: SerializedError };
export type UsageMessage = { t: 'usage'; id: number; usage: unknown };
/** one chunk of a streamed call */
export type ChunkMessage = { t: 'chunk'; id: number; value: unknown };
/** every model's `close()` has run */
export type ClosedMessage = { t: 'closed' };
export type WorkerToMain =
  | LoadedMessage
  | ReadyMessage
  | LoadErrorMessage
  | ResultMessage
  | ErrorMessage
  | UsageMessage
  | ChunkMessage
  | ClosedMessage;

/** A result's output, with the errors of a batch output rebuilt in place. */
export function resultValue(msg: ResultMessage): unknown {
  const errorsAt = msg[3];
  if (errorsAt !== undefined && Array.isArray(msg[2])) {
    const out = msg[2] as unknown[];
    for (const i of errorsAt) out[i] = deserializeError(out[i] as SerializedError);
  }
  return msg[2];
}

/** Whether a send failed because the payload cannot be cloned (postMessage and v8 serializer messages). */
export function isCloneFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'DataCloneError' || /could not be cloned/.test(err.message);
}

/** Encode a call: the tuple form of (id, model, input, ctx); `credit` makes it a streamed call. */
export function callMessage(
  id: number,
  model: string,
  input: unknown,
  ctx: WireCallContext,
  credit?: number,
): CallMessage {
  const { batch, trace, artifact } = ctx;
  if (batch === undefined && trace === undefined && artifact === undefined && credit === undefined) {
    return [CALL, id, model, input, ctx.endpointName, ctx.step, ctx.eventId, ctx.path];
  }
  const extra: CallExtra = {};
  if (credit !== undefined) extra.credit = credit;
  if (batch !== undefined) extra.batch = batch;
  if (trace !== undefined) extra.trace = trace;
  if (artifact !== undefined) extra.artifact = artifact;
  return [CALL, id, model, input, ctx.endpointName, ctx.step, ctx.eventId, ctx.path, extra];
}
