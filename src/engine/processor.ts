import type { Logger } from 'pino';
import type { Graph } from '../graph/graph.js';
import type { CallSink } from '../monitoring/types.js';
import type { LoadTracker } from '../server/load-tracker.js';
import type { Event } from './event.js';

/** Where a processor sends what its step emits. One outlet per step. */
export interface Outlet {
  readonly stepName: string;
  /** names of the step's downstream steps, in edge order */
  readonly downstream: readonly string[];
  /** pass `ev` to every downstream step (the first gets it, the others copies) */
  emit(ev: Event): void;
  /** pass `ev` to the named downstream steps only, in that order (Choice) */
  emitTo(names: readonly string[], ev: Event): void;
  /** fail one event at this step (e.g. one member of a batch being split), through the error handlers */
  fail(ev: Event, err: unknown): void;
}

/**
 * How the engine runs one step. `process` handles one event: it may emit any number of events
 * (none, one, many, later) and returns a Promise when it finishes asynchronously; a throw or a
 * rejection fails the event at this step.
 */
export interface Processor {
  process(ev: Event, out: Outlet): void | Promise<void>;
  /** the step handles stream end markers itself (a Collector); others let them pass untouched */
  readonly takesEndMarkers?: boolean;
  /** emit what the step holds (open batches) at once: the server is closing */
  flush?(): void;
  /** release timers and resources: the server has closed */
  stop?(): void;
}

/** What a step gets when the server starts: references to resolve, the graph, the logger. */
export interface CompileContext {
  readonly graph: Graph;
  readonly logger: Logger;
  /** resolve a class reference (graph.md section 12) for step `step`; `what` names it in errors */
  resolve(ref: string, step: string | undefined, what: string): Promise<unknown>;
  /** the graph's streaming switch, as the server read it (streaming.md) */
  readonly streaming: { readonly enabled: boolean; readonly maxBufferedChunks: number };
  /** where model calls are recorded (monitoring.md section 4) */
  readonly monitor?: CallSink;
  /** counts model copies as they load (readiness, onProgress) */
  readonly loads?: LoadTracker;
}
