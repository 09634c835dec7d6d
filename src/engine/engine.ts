import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { SgError, toStepError } from '../errors/index.js';
import type { LiveHistogram } from '../monitoring/types.js';
import type { Event } from './event.js';
import type { Outlet, Processor } from './processor.js';
import { ReplySlot } from './reply-slot.js';
import { type StreamState, streamOf } from './stream.js';

/**
 * A step as the engine runs it. Error handlers get one node per step they handle, because whether a
 * handler answers the caller depends on the step that failed (graph.md section 9).
 */
export class Node implements Outlet {
  outs: Node[] = [];
  downstream: string[] = [];
  /** the responder, or an error handler that answers in its place: what it emits is the reply */
  answers = false;
  /** the responder can be reached from here, so a failure here fails the request */
  reachesResponder = false;
  /** the node of this step's error handler (its own, else the graph's) */
  handler: Node | undefined;
  /** this node runs an error handler: its failures fail the event, no other handler is tried */
  isHandler = false;
  /** the step's `servegraph_step_latency_seconds` series, when the engine times steps */
  timer: LiveHistogram | undefined;

  constructor(
    private readonly engine: Engine,
    readonly stepName: string,
    readonly proc: Processor,
  ) {}

  emit(ev: Event): void {
    this.engine.dispatch(this, ev, this.outs);
  }

  emitTo(names: readonly string[], ev: Event): void {
    // the selected branches follow the branch rule: edge order, the first one gets the event itself
    const targets: Node[] = [];
    for (let i = 0; i < this.outs.length; i++) if (names.includes(this.downstream[i])) targets.push(this.outs[i]);
    this.engine.dispatch(this, ev, targets);
  }

  fail(ev: Event, err: unknown): void {
    this.engine.fail(this, ev, err);
  }
}

/** `ev` is handed to `node` at `now` (step timing). */
function stamp(ev: Event, node: Node, now: number): void {
  ev._at = node;
  ev._t0 = now;
}

/** The gate of a step with a chunk inside and none waiting (streams' `gates`). */
const BUSY: Event[] = [];

/** Runs events through a compiled graph. The core: dispatch, run, fail (graph.md sections 3, 4, 9). */
export class Engine {
  /** the start steps: every event enters each of them */
  readonly entry: Node;

  /** later arrivals at the responder are logged at debug level (graph.md section 3) */
  private readonly debug: boolean;

  /**
   * Step timing (servegraph_step_latency_seconds), on when metrics are attached: a step's time on a plain event runs
   * from when the event is handed to it to when it hands the event on (or drops it, fails it, finishes with it), so
   * that downstream steps run inside its emit do not count. Each hand-over reads the clock once, for both sides.
   * Chunk events are not timed: a streaming step's time is the whole stream's.
   */
  timed = false;
  /** the plain event a step is processing synchronously now: one that emits new events (FlatMap) is timed at its first */
  private current: Event | undefined;

  constructor(readonly logger: Logger) {
    this.entry = new Node(this, '(entry)', { process: () => {} });
    this.debug = logger.isLevelEnabled('debug');
  }

  /** Send a new request's event into the graph. The caller holds one token, released here. */
  inject(ev: Event): void {
    const owner = ev._owner;
    try {
      this.dispatch(this.entry, ev, this.entry.outs);
    } catch (err) {
      // a copy for several start steps failed: no step is concerned, and only a graph with a responder fails
      const e = err instanceof SgError ? err : toStepError(err, this.entry.stepName);
      if (this.entry.reachesResponder) owner.fail(e);
      else this.logger.warn({ eventId: ev.id, code: e.code, err: e }, `event ${ev.id} failed on entry: ${e.message}`);
    }
    owner.release();
  }

  /**
   * Pass `ev` on from `from` to `outs`. The responder's output is the reply; its downstream steps
   * get copies so that the reply never changes. On a branch the first step gets the event, the
   * others copies, all made before any runs (a copy that fails fails the event at `from`).
   */
  dispatch(from: Node, ev: Event, outs: readonly Node[]): void {
    const now = this.timed && ev.stream === undefined ? this.handOn(from, ev) : 0;
    if (from.answers) this.deliver(from, ev);
    const n = outs.length;
    if (n === 0) return;
    if (n === 1 && !from.answers) {
      ev._owner.acquire(1);
      if (now !== 0) stamp(ev, outs[0], now);
      this.run(outs[0], ev);
      return;
    }
    const events: Event[] = new Array(n);
    for (let i = 0; i < n; i++) events[i] = i === 0 && !from.answers ? ev : this.copyAt(ev, from);
    ev._owner.acquire(n);
    for (let i = 0; i < n; i++) {
      if (now !== 0) stamp(events[i], outs[i], now);
      this.run(outs[i], events[i]);
    }
  }

  /** `from` hands `ev` on: the clock, read once, ends `from`'s time on the event (or on the one it is processing). */
  private handOn(from: Node, ev: Event): number {
    const now = performance.now();
    const timer = from.timer;
    if (timer !== undefined) {
      const src = ev._at === from ? ev : this.current?._at === from ? this.current : undefined;
      if (src !== undefined) {
        timer.observe((now - src._t0) / 1000);
        src._at = undefined;
      }
    }
    return now;
  }

  /** `node` is done with `ev` without handing it on (dropped, failed, kept, answered by a reply of its own). */
  private timeEnd(node: Node, ev: Event): void {
    node.timer?.observe((performance.now() - ev._t0) / 1000);
    ev._at = undefined;
  }

  /** Run one step on one event; its token is released when the step has finished with it. */
  run(node: Node, ev: Event): void {
    if (ev.stream !== undefined) this.runChunk(node, ev);
    else this.runPlain(node, ev);
  }

  private runPlain(node: Node, ev: Event): void {
    if (ev._at === node) {
      this.runTimed(node, ev);
      return;
    }
    const owner = ev._owner;
    let pending: void | Promise<void>;
    try {
      pending = node.proc.process(ev, node);
    } catch (err) {
      this.fail(node, ev, err);
      owner.release();
      return;
    }
    if (pending === undefined) {
      owner.release();
      return;
    }
    pending.then(
      () => owner.release(),
      (err: unknown) => {
        this.fail(node, ev, err);
        owner.release();
      },
    );
  }

  /** runPlain with the step timed: as runPlain, and the step's time taken when it finishes without handing `ev` on. */
  private runTimed(node: Node, ev: Event): void {
    const owner = ev._owner;
    const outer = this.current;
    this.current = ev;
    let pending: void | Promise<void>;
    try {
      pending = node.proc.process(ev, node);
    } catch (err) {
      this.current = outer;
      this.fail(node, ev, err);
      owner.release();
      return;
    }
    this.current = outer;
    if (pending === undefined) {
      if (ev._at === node) this.timeEnd(node, ev);
      owner.release();
      return;
    }
    pending.then(
      () => {
        if (ev._at === node) this.timeEnd(node, ev);
        owner.release();
      },
      (err: unknown) => {
        this.fail(node, ev, err);
        owner.release();
      },
    );
  }

  /** `ev` failed at `node`: its error handler takes it, else the request fails (or, off the reply path, it is logged). */
  fail(node: Node, ev: Event, raw: unknown): void {
    if (ev._at === node) this.timeEnd(node, ev);
    const err = toStepError(raw, node.stepName);
    const stream = ev.stream === undefined ? undefined : streamOf(ev);
    if (stream !== undefined) {
      // a chunk failed: the whole stream fails, and the event the producer received goes to the error route
      if (stream.failure !== undefined) return;
      if (stream.fail(err, node.stepName)) return; // a Collector turned it into a partial result
      ev = stream.origin;
    }
    const handler = node.isHandler ? undefined : node.handler;
    if (handler !== undefined) {
      ev._setError(err, node.stepName);
      ev._owner.acquire(1);
      if (this.timed && ev.stream === undefined) stamp(ev, handler, performance.now());
      this.run(handler, ev);
      return;
    }
    if (node.reachesResponder) {
      ev._owner.fail(err);
    } else {
      this.logger.warn(
        { eventId: ev.id, step: err.step ?? node.stepName, code: err.code, err },
        `event ${ev.id} failed at step '${node.stepName}' (not on the reply path): ${err.message}`,
      );
    }
  }

  /**
   * A chunk event or end marker at `node` (streaming.md, "Ordering"): one chunk of a stream at a time per
   * step, in order; an end marker passes the step untouched (but after the stream's earlier chunks) unless
   * the step takes end markers (a Collector); chunks of a failed stream are dropped.
   */
  private runChunk(node: Node, ev: Event): void {
    const stream = streamOf(ev);
    if (stream === undefined) {
      this.runPlain(node, ev);
      return;
    }
    const gates = stream.gates;
    const queue = gates.get(node);
    if (queue !== undefined) {
      // a chunk of this stream is inside the step: wait behind it
      if (queue === BUSY) gates.set(node, [ev]);
      else queue.push(ev);
      return;
    }
    gates.set(node, BUSY);
    this.stepChunk(node, ev, stream);
  }

  /**
   * Handle `ev` at `node`, then the chunks that queued behind it, in order. Chunks handled synchronously go
   * round this loop; one that finishes later resumes it from its promise. No closure or queue is made
   * unless a chunk really waits.
   */
  private stepChunk(node: Node, ev: Event, stream: StreamState): void {
    for (;;) {
      const pending = this.processChunk(node, ev, stream);
      if (pending !== undefined) {
        const owner = ev._owner;
        const failed = ev;
        pending.then(
          () => {
            owner.release();
            this.nextChunk(node, stream);
          },
          (err: unknown) => {
            this.fail(node, failed, err);
            owner.release();
            this.nextChunk(node, stream);
          },
        );
        return;
      }
      ev._owner.release();
      const following = this.dequeue(node, stream);
      if (following === undefined) return;
      ev = following;
    }
  }

  private nextChunk(node: Node, stream: StreamState): void {
    const following = this.dequeue(node, stream);
    if (following !== undefined) this.stepChunk(node, following, stream);
  }

  /** The next chunk waiting at `node`, or undefined after closing the gate. */
  private dequeue(node: Node, stream: StreamState): Event | undefined {
    const gates = stream.gates;
    const queue = gates.get(node);
    if (queue === undefined || queue === BUSY || queue.length === 0) {
      gates.delete(node);
      return undefined;
    }
    return queue.shift();
  }

  /** One chunk or end marker at `node`: its processor's promise when it finishes later, else undefined. */
  private processChunk(node: Node, ev: Event, stream: StreamState): Promise<void> | undefined {
    if (stream.failure !== undefined) return undefined; // a chunk of a failed stream is dropped
    if (ev.stream!.last && node.proc.takesEndMarkers !== true) {
      try {
        this.dispatch(node, ev, node.outs);
      } catch (err) {
        this.fail(node, ev, err);
      }
      return undefined;
    }
    let pending: void | Promise<void>;
    try {
      pending = node.proc.process(ev, node);
    } catch (err) {
      this.fail(node, ev, err);
      return undefined;
    }
    return pending === undefined ? undefined : pending;
  }

  private deliver(node: Node, ev: Event): void {
    if (this.debug && ev.stream === undefined && ev._owner instanceof ReplySlot && ev._owner.decided) {
      this.logger.debug(
        { eventId: ev.id, step: node.stepName },
        `event ${ev.id}: a later arrival is ignored for the reply`,
      );
      return;
    }
    try {
      ev._owner.reply(ev.body, node.stepName, ev);
    } catch (err) {
      // a sink must never throw into the graph; if one does, it is a fault of ours
      this.logger.error({ err, eventId: ev.id }, 'reply delivery failed');
    }
  }

  /** A branch copy; SG_ERR_NOT_CLONEABLE names the branching step (none at the entry). */
  private copyAt(ev: Event, from: Node): Event {
    try {
      return ev.copy();
    } catch (err) {
      if (from === this.entry && err instanceof SgError) throw err;
      throw toStepError(err, from.stepName, 'SG_ERR_NOT_CLONEABLE');
    }
  }
}
