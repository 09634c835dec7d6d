import { performance } from 'node:perf_hooks';
import { cloneOrThrow, type Event } from '../engine/event.js';
import { defaultMerge } from '../engine/merge.js';
import type { Outlet } from '../engine/processor.js';
import { StreamState } from '../engine/stream.js';
import { SgError } from '../errors/index.js';
import { modelError } from '../executors/inline-executor.js';
import { readPath, writePath } from '../graph/paths.js';
import type { CallSink } from '../monitoring/types.js';
import type { ModelCall } from './model-call.js';
import type { Target } from './runner-plan.js';

export type StreamRun = {
  ev: Event;
  out: Outlet;
  target: Target;
  step: string;
  /** endpoints of the step: with several, the collected output is keyed by endpoint name */
  endpointCount: number;
  maxBufferedChunks: number;
  monitor: CallSink | undefined;
  makeCall(ev: Event, t: Target, input: unknown): ModelCall;
};

/** Merge a model's chunks: its own `collect` (on the prototype), else the default merge. */
function mergeFor(t: Target): (chunks: unknown[], summary: unknown) => unknown {
  const collect = t.traits?.collect;
  return collect ? (chunks, summary) => collect(chunks, summary) : (chunks) => defaultMerge(chunks);
}

/**
 * A runner whose selected model streams (streaming.md rule 4): the model's predictStream becomes the
 * runner's stream. Chunks carry no `resultPath`; collected, the stream is the runner's output as if the
 * model had returned the merged value. One call record, written when the stream ends.
 */
export function streamModel(r: StreamRun): Promise<void> {
  const { ev, out, target: t, step } = r;
  const path = t.def.inputPath;
  const input = path === undefined ? ev.body : readPath(ev.body, path, step);
  const call = r.makeCall(ev, t, input);
  const merge = mergeFor(t);
  const stream = new StreamState(ev, step, r.maxBufferedChunks, {
    merge,
    place: (merged) => {
      let result = merged;
      const rp = t.def.resultPath;
      if (rp !== undefined) {
        const body = cloneOrThrow(ev.body, 'body');
        writePath(body, rp, merged, step);
        result = body;
      }
      return r.endpointCount === 1 ? result : { [t.name]: result };
    },
  });
  call.streamSignal = stream.signal;
  const startedAt = Date.now();
  const t0 = performance.now();
  let firstAt: number | undefined;
  let source: AsyncIterable<unknown>;
  t.inFlight?.inc();
  try {
    source = t.executor.callStream!(call);
  } catch (err) {
    t.inFlight?.dec();
    stream.detach();
    throw modelError(err, step, t.name);
  }
  let ended = false;
  /** the stream has ended (done, failed or cancelled): the call is no longer in flight */
  const end = () => {
    if (ended) return;
    ended = true;
    t.inFlight?.dec();
  };
  const record = (failed: SgError | undefined) => {
    const started = call.startedAt;
    const aborted = failed === undefined && stream.failure !== undefined;
    const error = failed ?? (aborted ? stream.failure : undefined);
    r.monitor?.record({
      endpoint: t.name,
      eventId: ev.id,
      startedAt,
      latencyMs: performance.now() - t0,
      // dispatch → the model starting in its executor; null for naive
      queueMs: t.def.mechanism === 'naive' || started === undefined ? null : Math.max(0, started - t0),
      error: error === undefined ? undefined : { code: error.code, message: error.message },
      aborted,
      batchSize: 1,
      usage: call.usage ?? (stream.summary as { usage?: never } | undefined)?.usage,
      input,
      output: undefined,
      streamed: true,
      ttfcMs: firstAt === undefined ? null : firstAt - t0,
      chunks: stream.produced,
    });
  };
  const emit = (c: Event) => {
    firstAt ??= performance.now();
    out.emit(c);
  };
  return stream.run(source, emit).then(
    () => {
      if (stream.failure === undefined) {
        end();
        record(undefined);
      }
      // cancelled: the record waits (a bounded time) for the model to unwind and report what it spent
      else
        void settledWithin(stream.producerClosed, RECORD_WAIT_MS).then(() => {
          end();
          record(undefined);
        });
    },
    (err: unknown) => {
      end();
      const e = modelError(err, step, t.name);
      record(e);
      throw e;
    },
  );
}

/** How long a cancelled stream's call record waits for the model to report its partial usage. */
const RECORD_WAIT_MS = 2000;

function settledWithin(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
    p.then(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** Streaming disabled, or a model without predict: consume its predictStream and collect it (streaming.md). */
export async function collectModelStream(t: Target, call: ModelCall): Promise<unknown> {
  const chunks: unknown[] = [];
  const it = t.executor.callStream!(call)[Symbol.asyncIterator]();
  for (;;) {
    const n = await it.next();
    if (n.done) return mergeFor(t)(chunks, n.value);
    if (n.value instanceof Error) throw n.value;
    chunks.push(n.value);
  }
}

/** Rules 6 and 7 at run time: a streaming model selected together with another (streaming.md). */
export function selectionError(step: string, targets: readonly Target[]): SgError {
  return new SgError(
    'SG_ERR_STREAM_SELECTION',
    `runner '${step}': the selector chose streaming model ${targets
      .filter((t) => t.traits?.streams)
      .map((t) => `'${t.name}'`)
      .join(', ')} together with other models (${targets.map((t) => t.name).join(', ')}); a streaming model runs alone`,
    { step, details: { selected: targets.map((t) => t.name) } },
  );
}
