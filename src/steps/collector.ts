import type { Event, StreamInfo } from '../engine/event.js';
import type { CompileContext, Outlet, Processor } from '../engine/processor.js';
import { type StreamState, streamOf } from '../engine/stream.js';
import type { CollectorReducer, StreamDone } from '../engine/stream-types.js';
import { describe, SgError } from '../errors/index.js';
import { rejectUnknownOptions, Step, type StepSpecForm } from '../graph/step.js';

export type CollectorOptions = {
  name?: string;
  /** a custom merge; `init` once per stream, `step` per chunk, `finish` at the end marker */
  reducer?: CollectorReducer;
  /** longest time from a stream's first chunk here to its end marker; 0: no limit (default 300000) */
  timeoutMs?: number;
  /** longest gap between two chunks of a stream; 0: no limit (default 0) */
  idleTimeoutMs?: number;
  /** most chunks of one stream it accepts (default 100000) */
  maxChunks?: number;
  /** what a failed stream becomes: 'fail' (default) or 'partial' (the merge so far, with `error` set) */
  onStreamError?: 'fail' | 'partial';
};

const ALLOWED = ['name', 'reducer', 'timeoutMs', 'idleTimeoutMs', 'maxChunks', 'onStreamError'] as const;

/** Gathers every chunk of a stream back into one event (streaming.md, "The Collector step"). */
export class Collector extends Step<unknown, unknown> {
  readonly reducer: CollectorReducer | undefined;
  readonly timeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxChunks: number;
  readonly onStreamError: 'fail' | 'partial';

  constructor(options: CollectorOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new SgError('SG_ERR_INVALID_OPTION', `Collector options must be an object, got ${describe(options)}`);
    }
    rejectUnknownOptions('Collector', options, ALLOWED);
    super({ name: options.name });
    const { reducer, timeoutMs = 300_000, idleTimeoutMs = 0, maxChunks = 100_000, onStreamError = 'fail' } = options;
    if (
      reducer !== undefined &&
      (reducer === null ||
        typeof reducer !== 'object' ||
        typeof reducer.init !== 'function' ||
        typeof reducer.step !== 'function' ||
        (reducer.finish !== undefined && typeof reducer.finish !== 'function'))
    ) {
      throw this.optionError('reducer', '{ init(), step(acc, chunk, info), finish?(acc, done) }', reducer);
    }
    for (const [field, v] of [
      ['timeoutMs', timeoutMs],
      ['idleTimeoutMs', idleTimeoutMs],
    ] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw this.optionError(field, 'a number >= 0', v);
    }
    if (!Number.isInteger(maxChunks) || maxChunks < 1)
      throw this.optionError('maxChunks', 'an integer >= 1', maxChunks);
    if (onStreamError !== 'fail' && onStreamError !== 'partial')
      throw this.optionError('onStreamError', "'fail' or 'partial'", onStreamError);
    this.reducer = reducer;
    this.timeoutMs = timeoutMs;
    this.idleTimeoutMs = idleTimeoutMs;
    this.maxChunks = maxChunks;
    this.onStreamError = onStreamError;
  }

  override _streamRole(): 'collector' {
    return 'collector';
  }

  override _canHandleErrors(): boolean {
    return false;
  }

  override _kindLabel(): string {
    return 'collector';
  }

  override _specForm(): StepSpecForm {
    if (this.reducer !== undefined) {
      throw new SgError(
        'SG_ERR_NOT_SERIALIZABLE',
        `Collector '${this.name}': a reducer exists in code only and cannot be written to a spec file`,
        {
          step: this.name,
          details: { field: 'reducer' },
        },
      );
    }
    const params: Record<string, unknown> = {};
    if (this.timeoutMs !== 300_000) params.timeoutMs = this.timeoutMs;
    if (this.idleTimeoutMs !== 0) params.idleTimeoutMs = this.idleTimeoutMs;
    if (this.maxChunks !== 100_000) params.maxChunks = this.maxChunks;
    if (this.onStreamError !== 'fail') params.onStreamError = this.onStreamError;
    return Object.keys(params).length > 0 ? { class: 'Collector', params } : { class: 'Collector' };
  }

  override _processor(ctx: CompileContext): Processor {
    // with streaming disabled nothing streams: a Collector passes events through
    if (!ctx.streaming.enabled) return { process: (ev, out) => out.emit(ev) };
    return new CollectorProcessor(this);
  }
}

/** One stream being collected here. */
type Collecting = {
  stream: StreamState;
  acc: unknown;
  chunks: unknown[];
  count: number;
  timer?: NodeJS.Timeout;
  idle?: NodeJS.Timeout;
  done: boolean;
};

class CollectorProcessor implements Processor {
  readonly takesEndMarkers = true;
  private readonly open = new Map<string, Collecting>();

  constructor(private readonly step: Collector) {}

  process(ev: Event, out: Outlet): void {
    const stream = ev.stream === undefined ? undefined : streamOf(ev);
    if (stream === undefined) {
      out.emit(ev); // a plain event passes through unchanged
      return;
    }
    const c = this.open.get(stream.id) ?? this.begin(stream, out);
    if (c.done) return;
    const info = ev.stream as StreamInfo;
    if (info.last) {
      this.end(c);
      // the done payload as this consumer sees it: the chunks that reached this Collector
      out.emit(this.merged(c, { ...(ev.body as StreamDone), chunks: c.count }));
      return;
    }
    if (c.count >= this.step.maxChunks) {
      this.limit(
        c,
        new SgError(
          'SG_ERR_STREAM_TOO_LARGE',
          `Collector '${this.step.name}': the stream of '${stream.step}' passed maxChunks (${this.step.maxChunks})`,
          {
            step: this.step.name,
            details: { maxChunks: this.step.maxChunks, producer: stream.step },
          },
        ),
      );
      return;
    }
    c.count++;
    const reducer = this.step.reducer;
    if (reducer !== undefined) c.acc = reducer.step(c.acc, ev.body, info);
    else c.chunks.push(ev.body);
    this.armIdle(c);
  }

  stop(): void {
    for (const c of this.open.values()) this.end(c);
  }

  private begin(stream: StreamState, out: Outlet): Collecting {
    const c: Collecting = { stream, acc: undefined, chunks: [], count: 0, done: false };
    if (this.step.reducer !== undefined) c.acc = this.step.reducer.init();
    this.open.set(stream.id, c);
    const { timeoutMs } = this.step;
    if (timeoutMs > 0) {
      c.timer = setTimeout(() => this.limit(c, this.timeout('timeoutMs', timeoutMs, stream)), timeoutMs);
    }
    this.armIdle(c);
    // a stream that fails anywhere (producer, a per-chunk step, a limit) ends here too
    stream.onFail((err, step) => {
      if (c.done) return false;
      this.end(c);
      // the request itself is gone (its consumer left, the server closed): nothing to emit for it
      if (stream.origin._owner.cancelled) return false;
      if (this.step.onStreamError === 'partial') {
        // the Collector handles the failure: the merge so far goes on, the event does not also fail
        try {
          const ev = this.merged(c, { id: stream.origin.id, chunks: c.count });
          ev._setError(err, step);
          out.emit(ev);
        } catch (mergeErr) {
          out.fail(stream.origin, mergeErr);
        }
        return true;
      }
      if (step === this.step.name) {
        out.fail(stream.origin, err); // the Collector's own limit: the originating event fails here
        return true;
      }
      return false;
    });
    return c;
  }

  /** The originating event with the merged stream as body (its id, headers and reply). */
  private merged(c: Collecting, done: StreamDone): Event {
    const reducer = this.step.reducer;
    const stream = c.stream;
    let body: unknown;
    if (reducer !== undefined) body = stream.shape.place(reducer.finish ? reducer.finish(c.acc, done) : c.acc);
    else body = stream.finish(c.chunks);
    return stream.origin.copy({ body });
  }

  private armIdle(c: Collecting): void {
    const idle = this.step.idleTimeoutMs;
    if (idle <= 0) return;
    clearTimeout(c.idle);
    c.idle = setTimeout(() => this.limit(c, this.timeout('idleTimeoutMs', idle, c.stream)), idle);
  }

  private timeout(field: string, ms: number, stream: StreamState): SgError {
    return new SgError(
      'SG_ERR_STREAM_TIMEOUT',
      `Collector '${this.step.name}': the stream of '${stream.step}' passed ${field} (${ms} ms)`,
      {
        step: this.step.name,
        details: { [field]: ms, producer: stream.step },
      },
    );
  }

  /** A limit of this Collector ends the stream: it is cancelled, and its later chunks are dropped. */
  private limit(c: Collecting, err: SgError): void {
    if (c.done) return;
    c.stream.fail(err, this.step.name);
  }

  private end(c: Collecting): void {
    c.done = true;
    clearTimeout(c.timer);
    clearTimeout(c.idle);
    this.open.delete(c.stream.id);
  }
}
