import { performance } from 'node:perf_hooks';
import type { EventOwner } from '../engine/owner.js';
import type { Usage } from '../engine/stream-types.js';
import type { ExecCall, ExecContext } from '../executors/executor.js';
import { wireArtifact } from './artifacts/any-artifact.js';
import type { Artifact, ModelCallContext } from './types.js';

/**
 * One model call of one event (or batch): its input, context and signal. The signal is the request's,
 * made only when something reads it; a call with `timeoutMs` gets its own, which also aborts on timeout.
 */
export class ModelCall implements ExecCall {
  /** the usage last reported with ctx.recordUsage (the last report wins) */
  usage: Usage | undefined;
  private controller: AbortController | undefined;

  constructor(
    readonly model: string,
    readonly input: unknown,
    readonly ctx: ExecContext,
    readonly timeoutMs: number,
    private readonly owner: EventOwner,
    private readonly artifact: Artifact | undefined,
  ) {}

  /** a streamed call's signal is its stream's: it aborts when the stream is cancelled (streaming.md) */
  streamSignal: AbortSignal | undefined;

  get signal(): AbortSignal {
    if (this.streamSignal !== undefined) return this.streamSignal;
    if (this.timeoutMs === 0) return this.owner.signal;
    if (this.controller === undefined) {
      const c = new AbortController();
      this.controller = c;
      const parent = this.owner.signal;
      if (parent.aborted) c.abort(parent.reason);
      else parent.addEventListener('abort', () => c.abort(parent.reason), { once: true });
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.owner.cancelled || this.controller?.signal.aborted === true;
  }

  /** Why the call's signal fired, or undefined while it has not (the request's reason, or the call's own timeout). */
  abortReason(): unknown {
    if (this.controller?.signal.aborted) return this.controller.signal.reason;
    if (this.owner.cancelled) return this.owner.signal.reason;
    return undefined;
  }

  /** performance.now() when the model started in its executor (main-thread executors report it) */
  startedAt: number | undefined;

  onStart(): void {
    this.startedAt = performance.now();
  }

  abort(reason: unknown): void {
    const s = this.signal;
    if (!s.aborted) this.controller?.abort(reason);
  }

  artifactJson(): Record<string, unknown> | undefined {
    return this.artifact === undefined ? undefined : wireArtifact(this.artifact);
  }

  onUsage(usage: unknown): void {
    if (usage !== null && typeof usage === 'object') this.usage = usage as Usage;
  }

  makeContext(): ModelCallContext {
    // eslint-style note: a plain object with a getter keeps the signal lazy
    const call = this;
    const { endpointName, step, eventId, path, batch, trace } = this.ctx;
    return {
      endpointName,
      step,
      eventId,
      path,
      batch,
      trace,
      artifact: this.artifact,
      get signal() {
        return call.signal;
      },
      recordUsage(usage: Usage) {
        call.onUsage(usage);
      },
    };
  }
}
