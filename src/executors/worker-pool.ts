import { deserializeError, type SerializedError, serializeError } from '../errors/serialize.js';
import { Fifo } from './fifo.js';
import { PendingCall as Pending } from './pending-call.js';
import * as E from './pool-errors.js';
import { PoolStream, STREAM_WINDOW, type StreamControl } from './pool-stream.js';
import type { PoolCall, PoolOptions } from './pool-types.js';
import { callMessage, type InitMessage, isCloneFailure, resultValue, type WorkerToMain } from './protocol.js';
import type { ExitInfo, Transport } from './transport.js';
import { defaultEntry, leastBusy, Slot } from './worker-slot.js';

export type { PoolCall, PoolCallContext, PoolOptions } from './pool-types.js';
export type { PoolModelSpec } from './protocol.js';

/** A running call whose worker is still busy with it this long after it was given up is stuck. */
const STUCK_AFTER_MS = 1000;
/** A replacement that fails this many times in a row gives its slot up. */
const MAX_RESTART_FAILURES = 3;
/** Model close() in the workers gets at least this long, whatever the grace period. */
const MIN_CLOSE_MS = 1000;

/**
 * A pool of worker threads or child processes, every one holding a copy of every model of the pool
 * (model-runner.md section 8): one FIFO queue (per model, bounded by `maxQueue` in all), at most
 * `maxConcurrentCalls` calls per copy, timeouts and cancellation, replacement of dead or stuck workers.
 */
export class WorkerPool {
  private readonly o: PoolOptions;
  private readonly step: string;
  private readonly init: InitMessage;
  private readonly modelIndex = new Map<string, number>();
  private readonly maxCalls: Int32Array;
  private readonly queues: Fifo<Pending>[];
  private readonly slots: Slot[] = [];
  private nextId = 1;
  /** slots given up after failed restarts */
  private givenUp = 0;
  private waiting = 0;
  /** workers holding at least one call, and workers ready: with `waiting`, what the pool's gauges show */
  private busyWorkers = 0;
  private readyWorkers = 0;
  /** calls accepted and not settled yet */
  private active = 0;
  private started = false;
  private failed = false;
  private closing: Promise<void> | undefined;
  private onDrained: (() => void) | undefined;
  private startHooks: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  private onLoaded: ((p: { model: string; worker: number }) => void) | undefined;

  constructor(o: PoolOptions) {
    this.o = o;
    this.step = o.name.split('/')[0];
    this.init = {
      t: 'init',
      pool: o.name,
      mechanism: o.mechanism,
      models: o.models,
      logLevel: o.logger.level,
      providers: o.providers,
    };
    this.maxCalls = new Int32Array(o.models.length);
    o.models.forEach((m, i) => {
      this.modelIndex.set(m.name, i);
      this.maxCalls[i] = Math.max(1, Math.floor(m.maxConcurrentCalls));
    });
    this.queues = o.models.map(() => new Fifo<Pending>((p) => p.queued));
    const entry = o.entry ?? defaultEntry(o.kind);
    const events = { message: this.onMessage.bind(this), exit: this.onExit.bind(this) };
    for (let i = 0; i < o.size; i++) this.slots.push(new Slot(i, o.models.length, o.kind, entry, events));
  }

  /** The pool's name (`'<step>/thread_pool'`…), for logs and metrics. */
  get name(): string {
    return this.o.name;
  }

  /** workers (each holds a copy of every model of the pool) */
  get size(): number {
    return this.o.size;
  }

  /** Calls waiting in the queue. */
  get queueDepth(): number {
    return this.waiting;
  }

  /** Tell the gauges (servegraph_pool_*) the calls waiting and the workers busy and idle. */
  private report(): void {
    this.o.gauges?.set(this.waiting, this.busyWorkers, Math.max(0, this.readyWorkers - this.busyWorkers));
  }

  /** Workers running (ready or loading); given-up slots are not counted. */
  get aliveWorkers(): number {
    let n = 0;
    for (const s of this.slots) if (s.transport !== undefined && s.state !== 'gone') n++;
    return n;
  }

  /** Spawn every worker at once; resolves when all have loaded every model, rejects on the first failure. */
  start(onLoaded?: (p: { model: string; worker: number }) => void): Promise<void> {
    if (this.startHooks || this.started) throw new Error(`pool '${this.o.name}': start() called twice`);
    this.onLoaded = onLoaded;
    const done = new Promise<void>((resolve, reject) => {
      this.startHooks = { resolve, reject };
    });
    if (this.slots.length === 0) this.startDone(undefined);
    for (const slot of this.slots) slot.spawn(this.init);
    return done;
  }

  call(c: PoolCall): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => this.submit(c, resolve, reject, undefined));
  }

  /**
   * A streaming model's call (streaming.md): its predictStream in a worker, as an async iterable of its
   * chunks. Queued, admitted, timed and cancelled like `call`; it holds its place until the stream ends.
   */
  callStream(c: PoolCall): AsyncIterable<unknown> {
    const s = new PoolStream(this.streamControl);
    this.submit(c, s.resolve, s.reject, s);
    return s;
  }

  private submit(c: PoolCall, resolve: (v: unknown) => void, reject: (e: unknown) => void, s?: PoolStream): void {
    const m = this.modelIndex.get(c.model);
    // FIFO per model: a free copy takes the call only when no earlier call of that model waits
    const free = m === undefined || (this.waiting > 0 && this.queues[m].hasLive) ? undefined : this.freeSlot(m);
    const refused = this.refusal(c, m, free);
    if (refused !== undefined || m === undefined) {
      reject(refused);
      return;
    }
    const p = new Pending(this.nextId++, m, c.input, c);
    p.resolve = resolve;
    p.reject = reject;
    if (s !== undefined) {
      p.stream = s;
      s.call = p;
    }
    this.active++;
    if (free !== undefined) {
      this.dispatch(p, free);
    } else {
      p.queued = true;
      this.waiting++;
      this.queues[m].push(p);
    }
    this.report();
    if (!p.settled) p.watch(this.giveUp, (ms) => E.timedOut(this.where(c), ms));
  }

  /** Why a new call is refused (unknown model, pool closed or failed, call aborted, queue full), if it is. */
  private refusal(c: PoolCall, m: number | undefined, free: Slot | undefined): unknown {
    if (m === undefined) return E.unknownModel(this.where(c));
    if (this.closing) return E.serverClosed(this.where(c), c.ctx.eventId, false);
    if (this.failed || (this.givenUp > 0 && this.noWorkerLeft())) return E.unavailable(this.where(c));
    if (c.signal?.aborted) return c.signal.reason;
    if (free === undefined && this.waiting >= this.o.maxQueue) return E.overloaded(this.where(c), this.o.maxQueue);
    return undefined;
  }

  private readonly streamControl: StreamControl = {
    credit: (p, n) => {
      if (!p.settled && p.slot?.held.has(p.id)) p.slot.post({ t: 'credit', id: p.id, n });
    },
    cancel: (p, reason) => this.giveUp(p, reason),
  };

  /** Refuse new calls, let calls in flight finish within graceMs, fail the rest, close the models, stop. */
  close(graceMs: number): Promise<void> {
    this.closing ??= this.shutdown(Math.max(0, graceMs));
    return this.closing;
  }

  // ---- start-up and workers ----

  private onMessage(slot: Slot, msg: WorkerToMain): void {
    if (Array.isArray(msg)) {
      this.answered(slot, msg[1], true, resultValue(msg));
      return;
    }
    switch (msg.t) {
      case 'error':
        this.answered(slot, msg.id, false, msg.error);
        return;
      case 'chunk':
        slot.held.get(msg.id)?.chunk(msg.value);
        return;
      case 'usage': {
        const err = slot.held.get(msg.id)?.usage(msg.usage);
        if (err !== undefined) this.o.logger.warn({ pool: this.o.name, err }, 'onUsage threw');
        return;
      }
      case 'loaded':
        if (!this.started) this.onLoaded?.({ model: msg.model, worker: slot.index });
        return;
      case 'ready':
        if (slot.state !== 'ready') this.readyWorkers++;
        slot.state = 'ready';
        slot.failures = 0;
        if (!this.started) {
          if (this.slots.every((s) => s.state === 'ready')) this.startDone(undefined);
        } else {
          this.o.logger.info(
            { pool: this.o.name, worker: slot.index, id: slot.transport?.id },
            'replacement worker ready',
          );
        }
        this.pumpAll();
        this.report();
        return;
      case 'load-error': {
        const err = deserializeError(msg.error);
        if (!this.started) {
          this.startDone(err);
        } else {
          this.o.logger.error({ pool: this.o.name, worker: slot.index, err }, 'replacement worker failed to load');
          slot.kill('stopped after failing to load');
        }
        return;
      }
      default:
        return;
    }
  }

  /** The worker answered a call it held (maybe one given up already): free its place, settle it, pump. */
  private answered(slot: Slot, id: number, ok: boolean, payload: unknown): void {
    const p = slot.held.get(id);
    if (p === undefined) return;
    if (slot.release(p)) this.busyWorkers--;
    if (!p.settled) {
      if (ok) this.settle(p, true, payload);
      else this.settle(p, false, E.modelFailed(this.where(p.c), deserializeError(payload as SerializedError)));
    }
    if (this.waiting > 0) this.pumpModel(p.model);
    this.report();
  }

  private onExit(slot: Slot, info: ExitInfo, id: number, wasReady: boolean): void {
    const kind = this.o.kind;
    if (wasReady) this.readyWorkers--;
    const lost = (p: Pending) => this.settle(p, false, E.workerDied(this.where(p.c), kind, id, info, slot.killedFor));
    if (slot.releaseAll(lost)) this.busyWorkers--;
    if (this.closing || this.failed) return;
    this.report();
    if (!this.started) {
      const model = this.o.models[Math.min(slot.loaded, this.o.models.length - 1)]?.name ?? '';
      const w = { step: this.step, endpoint: model, pool: this.o.name };
      this.startDone(E.workerDiedLoading(w, kind, id, info));
      return;
    }
    if (wasReady) {
      this.o.logger.warn({ pool: this.o.name, worker: slot.index, id, exit: info }, 'worker exited; replacing it');
    } else if (++slot.failures >= MAX_RESTART_FAILURES) {
      slot.state = 'gone';
      this.givenUp++;
      this.o.logger.error(
        { pool: this.o.name, worker: slot.index, failures: slot.failures },
        `worker slot ${slot.index} of pool '${this.o.name}' given up: its replacement failed to start ${slot.failures} times in a row`,
      );
      if (this.noWorkerLeft()) this.failQueued((p) => E.unavailable(this.where(p.c)));
      return;
    }
    slot.spawn(this.init);
  }

  private startDone(err: unknown, closing = false): void {
    const hooks = this.startHooks;
    if (hooks === undefined || this.started || this.failed) return;
    if (err === undefined) {
      this.started = true;
      hooks.resolve();
      return;
    }
    this.failed = true;
    this.failQueued((p) =>
      closing ? E.serverClosed(this.where(p.c), p.c.ctx.eventId, false) : E.unavailable(this.where(p.c)),
    );
    void Promise.all(this.slots.map((s) => s.transport?.terminate())).then(() => hooks.reject(err));
  }

  private noWorkerLeft(): boolean {
    return this.started && this.givenUp === this.slots.length;
  }

  // ---- scheduling ----

  /** A ready worker whose copy of model m has room: the least busy one. */
  private freeSlot(m: number): Slot | undefined {
    return leastBusy(this.slots, m, this.maxCalls[m]);
  }

  /** Hand call p to a worker: its queue time ends here (`queueMs` of monitoring.md section 4 is measured to now). */
  private dispatch(p: Pending, slot: Slot): void {
    const t = slot.transport as Transport;
    if (slot.hold(p)) this.busyWorkers++;
    p.c.onStart?.();
    try {
      t.send(callMessage(p.id, p.c.model, p.input, p.c.ctx, p.stream === undefined ? undefined : STREAM_WINDOW));
    } catch (err) {
      if (slot.release(p)) this.busyWorkers--;
      if (isCloneFailure(err)) {
        this.settle(p, false, E.notCloneableIn(this.where(p.c), p.input, err));
      } else {
        const info = { code: null, signal: null, error: err as Error };
        this.settle(p, false, E.workerDied(this.where(p.c), this.o.kind, t.id, info, 'unreachable'));
      }
    }
    p.input = undefined;
  }

  private pumpModel(m: number): void {
    const queue = this.queues[m];
    while (queue.hasLive) {
      const slot = this.freeSlot(m);
      if (slot === undefined) return;
      const p = queue.shift() as Pending;
      p.queued = false;
      this.waiting--;
      this.dispatch(p, slot);
    }
  }

  private pumpAll(): void {
    for (let m = 0; m < this.queues.length; m++) this.pumpModel(m);
  }

  /** Timeout, abort or the end of the grace period: fail the call now; a running one is cancelled in its worker. */
  private readonly giveUp = (p: Pending, reason: unknown, watchStuck = true): void => {
    if (p.settled) return;
    if (p.queued) {
      p.queued = false;
      this.waiting--;
      this.queues[p.model].noteRemoved();
      this.settle(p, false, reason);
      this.report();
      return;
    }
    this.settle(p, false, reason);
    const slot = p.slot;
    if (slot?.transport === undefined || !slot.held.has(p.id)) return;
    slot.post({ t: 'cancel', id: p.id, reason: serializeError(reason) });
    if (!watchStuck) return;
    slot.watchStuck(p, STUCK_AFTER_MS, this.o.logger, this.o.name);
  };

  private settle(p: Pending, ok: boolean, value: unknown): void {
    if (p.settle(ok, value) && --this.active === 0) this.onDrained?.();
  }

  private failQueued(error: (p: Pending) => unknown): void {
    for (const q of this.queues) {
      for (const p of q.drain()) {
        p.queued = false;
        this.waiting--;
        this.settle(p, false, error(p));
      }
    }
    this.report();
  }

  private where(c: PoolCall): { step: string; endpoint: string; pool: string } {
    // the calling endpoint: for a shared model, the proxy (failures are recorded under its name)
    return { step: c.ctx.step, endpoint: c.ctx.endpointName, pool: this.o.name };
  }

  // ---- shut-down ----

  private async shutdown(graceMs: number): Promise<void> {
    if (!this.started && !this.failed) this.startDone(E.closedDuringStart(this.step, this.o.name), true);
    const deadline = Date.now() + graceMs;
    if (this.active > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.onDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.onDrained = undefined;
    }
    // the grace period is over: whatever is left fails
    this.failQueued((p) => E.serverClosed(this.where(p.c), p.c.ctx.eventId, false));
    for (const slot of this.slots) {
      for (const p of [...slot.held.values()]) {
        this.giveUp(p, E.serverClosed(this.where(p.c), p.c.ctx.eventId, true), false);
      }
    }
    const closeMs = Math.max(MIN_CLOSE_MS, deadline - Date.now());
    await Promise.all(this.slots.map((slot) => slot.stop(closeMs)));
    this.busyWorkers = this.readyWorkers = 0;
    this.report();
  }
}
