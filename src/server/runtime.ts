import type { Logger } from 'pino';
import { compileGraph } from '../engine/compile.js';
import type { Engine } from '../engine/engine.js';
import { Event, type EventInit } from '../engine/event.js';
import type { ReplySink } from '../engine/owner.js';
import type { Processor } from '../engine/processor.js';
import { ReplySlot, SlotList } from '../engine/reply-slot.js';
import { placeError, SgError } from '../errors/index.js';
import type { Graph } from '../graph/graph.js';
import type { Step } from '../graph/step.js';
import { checkStreamingRules } from '../graph/streaming-rules.js';
import type { CallSink } from '../monitoring/types.js';
import { resolveReference } from '../registry/registry.js';
import { type LoadProgress, LoadTracker } from './load-tracker.js';

/** The longest delay setTimeout accepts (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type RuntimeOptions = {
  logger: Logger;
  maxConcurrency: number;
  monitor?: CallSink;
  /** called each time a model copy finishes loading */
  onProgress?: (p: LoadProgress) => void;
};

/**
 * A graph being served: start-up (references, init, compile), admission (maxConcurrency, closing),
 * the requests in flight, and graceful close. The mock server and the HTTP server are triggers on it.
 */
export class GraphRuntime {
  readonly logger: Logger;
  /** resolves when every step is started; rejects with the first start-up error */
  readonly ready: Promise<void>;
  isReady = false;
  private engine: Engine | undefined;
  private processors = new Map<string, Processor>();
  private started: Step<unknown, unknown>[] = [];
  private inflight = 0;
  private readonly maxConcurrency: number;
  /**
   * Requests with events still running. A list threaded through the slots, not a Set: a Set's table, once
   * promoted to the old generation, keeps every slot that passed through it alive across young GCs.
   */
  private readonly active = new SlotList();
  private readonly noResponder: boolean;
  private closing: Promise<void> | undefined;
  private onDrained: (() => void) | undefined;
  private readonly monitor: CallSink | undefined;
  /** model copies loading and loaded (readiness, onProgress) */
  readonly loads: LoadTracker;
  private sharedStarted = false;
  private readonly starting: Promise<void>;
  private abortStart: (err: SgError) => void = () => {};
  /** processors and steps are stopped: nothing more can run */
  private stopped = false;

  constructor(
    readonly graph: Graph,
    options: RuntimeOptions,
  ) {
    graph.validate();
    if (graph._inUse) {
      throw new SgError(
        'SG_ERR_GRAPH_IN_USE',
        `graph '${graph.name}' is already served by an open server: close it first`,
      );
    }
    graph._inUse = true;
    this.logger = options.logger;
    this.monitor = options.monitor;
    this.loads = new LoadTracker(options.onProgress);
    this.maxConcurrency = options.maxConcurrency;
    this.noResponder = graph.responder === undefined;
    this.starting = this.start();
    this.starting.catch(() => {});
    // close() before start-up ends rejects ready() at once, even while an init() is still running
    const aborted = new Promise<never>((_, reject) => {
      this.abortStart = reject;
    });
    this.ready = Promise.race([this.starting, aborted]);
    this.ready.catch(() => {}); // observed by ready()/test(); never an unhandled rejection
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  get hasResponder(): boolean {
    return !this.noResponder;
  }

  /** Count one more request in flight, or refuse it (SG_ERR_SERVER_CLOSED, SG_ERR_OVERLOADED). Pair with leave(). */
  admit(): void {
    if (this.closing !== undefined)
      throw new SgError('SG_ERR_SERVER_CLOSED', 'the server is closed: no new events are taken');
    if (this.maxConcurrency > 0 && this.inflight >= this.maxConcurrency) {
      throw new SgError(
        'SG_ERR_OVERLOADED',
        `${this.maxConcurrency} events are already in flight (maxConcurrency); try again later`,
        {
          details: { maxConcurrency: this.maxConcurrency },
        },
      );
    }
    this.inflight++;
  }

  leave(): void {
    this.inflight--;
    if (this.idle) this.onDrained?.();
  }

  /** No request admitted and unanswered, and no event of any request still running. */
  private get idle(): boolean {
    return this.inflight === 0 && this.active.count === 0;
  }

  /** Send one event into the started graph; `sink` receives its reply. */
  submit(init: EventInit, sink: ReplySink): ReplySlot {
    if (this.stopped) throw new SgError('SG_ERR_SERVER_CLOSED', 'the server has closed: its steps are stopped');
    const slot = new ReplySlot(init.id, sink, this.noResponder, this.finished);
    this.active.push(slot);
    this.engine!.inject(new Event(init, slot));
    return slot;
  }

  private readonly finished = (slot: ReplySlot): void => {
    this.active.remove(slot);
    if (this.idle) this.onDrained?.();
  };

  /** Stop taking events, let those in flight finish for up to `graceMs`, then fail the rest and stop the steps. */
  close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.closing === undefined) this.closing = this.shutDown(options.graceMs ?? 10_000);
    // after a failed start too: call records still buffered are written and the store closed; one promise for every call
    this.fullyClosed ??= this.closing.then(() => this.monitor?.close?.().catch(() => {}));
    return this.fullyClosed;
  }

  private fullyClosed: Promise<void> | undefined;

  private async start(): Promise<void> {
    const graph = this.graph;
    try {
      const { engine, processors } = await compileGraph(graph, {
        graph,
        logger: this.logger,
        resolve: (ref, step, what) => resolveReference(ref, graph.baseDir, step, what),
        monitor: this.monitor,
        loads: this.loads,
        streaming: { ...graph._streaming },
      });
      this.processors = processors;
      // handlers and classes named by reference are known only now: check the streaming rules for them
      if (graph._streaming.enabled) checkStreamingRules(graph);
      // shared models first: runners' proxies call into the graph-level executor
      this.sharedStarted = true;
      await graph._shared._start({
        baseDir: graph.baseDir,
        logger: this.logger,
        loads: this.loads,
        resolve: (ref, step, what) => resolveReference(ref, graph.baseDir, step, what),
        live: this.monitor?.liveMetrics?.(),
      });
      for (const step of graph._steps.values()) {
        if (this.closing !== undefined)
          throw new SgError('SG_ERR_SERVER_CLOSED', 'the server was closed while starting');
        try {
          await step._start();
        } catch (err) {
          if (err instanceof SgError) throw placeError(err, step.name);
          throw new SgError(
            'SG_ERR_STEP_INIT',
            `step '${step.name}': init() failed: ${err instanceof Error ? err.message : String(err)}`,
            {
              step: step.name,
              cause: err,
            },
          );
        }
        this.started.push(step);
      }
      if (this.stopped) throw new SgError('SG_ERR_SERVER_CLOSED', 'the server was closed while starting');
      this.engine = engine;
      this.isReady = true;
    } catch (err) {
      await this.stopSteps();
      graph._inUse = false;
      // the monitor stays open, so that the failed endpoints can be queried; close() closes it
      this.closing ??= Promise.resolve();
      throw err;
    }
  }

  private async shutDown(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    if (!this.isReady)
      this.abortStart(new SgError('SG_ERR_SERVER_CLOSED', 'the server was closed before it was ready'));
    const started = await settleWithin(this.starting, graceMs);
    if (started === 'failed') return; // start() already stopped what it had started
    if (started === 'timeout') {
      // a step's init() or a model's load() is still running: stop what has started; start() gives up at its next step
      this.stopped = true;
      await this.stopSteps();
      this.graph._inUse = false;
      return;
    }
    for (const p of this.processors.values()) p.flush?.();
    if (!this.idle) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.onDrained = resolve;
        // a longer delay than setTimeout accepts would end the grace period at once
        timer = setTimeout(resolve, Math.min(Math.max(0, deadline - Date.now()), MAX_TIMER_MS));
      });
      clearTimeout(timer);
    }
    for (const slot of this.active.toArray()) {
      slot.cancel(
        new SgError('SG_ERR_SERVER_CLOSED', `event ${slot.id} was still in flight when the close grace period ended`, {
          details: { eventId: slot.id },
        }),
      );
    }
    this.stopped = true;
    for (const p of this.processors.values()) p.stop?.();
    await this.stopSteps();
    this.graph._inUse = false;
  }

  private async stopSteps(): Promise<void> {
    await this.stopStepsOnly();
    if (this.sharedStarted) {
      this.sharedStarted = false;
      await this.graph._shared._stop(0);
    }
  }

  private async stopStepsOnly(): Promise<void> {
    for (const step of this.started.reverse()) {
      try {
        await step._stop();
      } catch (err) {
        this.logger.error({ err, step: step.name }, `step '${step.name}': close() failed`);
      }
    }
    this.started = [];
  }
}

/** How `p` settles within `ms`: 'ok', 'failed', or 'timeout' when it has not settled by then. */
async function settleWithin(p: Promise<unknown>, ms: number): Promise<'ok' | 'failed' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.min(ms, MAX_TIMER_MS));
  });
  try {
    return await Promise.race([
      p.then(
        () => 'ok' as const,
        () => 'failed' as const,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
