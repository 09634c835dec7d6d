/** Where a model call comes from, as the model's `ctx` describes it (model-runner.md section 1). */
export type ExecContext = {
  readonly endpointName: string;
  readonly step: string;
  readonly eventId: string;
  readonly path: string;
  readonly batch: { readonly size: number } | undefined;
  readonly trace: { traceparent: string; tracestate?: string } | undefined;
};

/** One model call, as the runner hands it to an executor. */
export interface ExecCall {
  /** the model's name inside its executor (endpoint name, or the shared model's name) */
  readonly model: string;
  readonly input: unknown;
  readonly ctx: ExecContext;
  /** 0: no limit; counted from when the call is made, queue time included */
  readonly timeoutMs: number;
  /** aborts when the call is no longer wanted (client gone, request timed out, server closing) */
  readonly signal: AbortSignal | undefined;
  /** the artifact in JSON form, for executors that cross a thread or process boundary */
  artifactJson(): Record<string, unknown> | undefined;
  /** the full `ModelCallContext`, for executors that run the model on this thread */
  makeContext(): unknown;
  /** abort the call's own signal (its timeout passed) */
  abort(reason: unknown): void;
  onUsage(usage: unknown): void;
  /** the model starts on the call: the runner's queue time ends (monitoring.md section 4, `queueMs`) */
  onStart?(): void;
}

/**
 * An execution mechanism (model-runner.md section 8): runs the calls of the models it holds.
 * `call` returns the output, or a Promise of it; failures are SgErrors naming step and endpoint.
 */
export interface ModelExecutor {
  readonly name: string;
  /** copies of each of its models that start() loads (a pool: one per worker) */
  readonly copies: number;
  start(onLoaded?: (p: { model: string }) => void): Promise<void>;
  call(c: ExecCall): unknown;
  /** a streaming model's call: its predictStream as an async iterable (executors that can stream) */
  callStream?(c: ExecCall): AsyncIterable<unknown>;
  close(graceMs: number): Promise<void>;
  readonly queueDepth: number;
}
