import type { Logger } from 'pino';
import type { PendingCall } from './pending-call.js';
import { ProcessTransport } from './process-transport.js';
import type { InitMessage, MainToWorker, WorkerToMain } from './protocol.js';
import { ThreadTransport } from './thread-transport.js';
import type { ExitInfo, Transport } from './transport.js';

/** What a slot reports to its pool. */
export type SlotEvents = {
  /** every message but 'closed' (the slot's own) */
  message(slot: Slot, msg: WorkerToMain): void;
  /** the slot's worker ended (or could not be created: id -1); `wasReady`: it had loaded every model */
  exit(slot: Slot, info: ExitInfo, id: number, wasReady: boolean): void;
};

/**
 * One worker position of a pool: the current worker (a transport), the calls it holds, and its life:
 * spawned with `init`, replaced when it dies, given up after failed restarts, stopped with `close`.
 */
export class Slot {
  transport: Transport | undefined = undefined;
  state: 'starting' | 'ready' | 'dead' | 'gone' = 'dead';
  /** per model index: calls the worker holds (including given-up calls it has not answered yet) */
  readonly busy: Int32Array;
  readonly held = new Map<number, PendingCall>();
  /** consecutive failed starts of a replacement */
  failures = 0;
  /** models loaded by the current worker (the next one is the one loading) */
  loaded = 0;
  /** why the pool stopped this worker, for the calls it held */
  killedFor: string | undefined = undefined;
  private onClosed: (() => void) | undefined = undefined;

  constructor(
    readonly index: number,
    models: number,
    private readonly kind: 'thread' | 'process',
    private readonly entry: URL,
    private readonly events: SlotEvents,
  ) {
    this.busy = new Int32Array(models);
  }

  /** Start a worker in this slot and send it `init`. */
  spawn(init: InitMessage): void {
    this.state = 'starting';
    this.loaded = 0;
    this.killedFor = undefined;
    let t: Transport;
    try {
      t = this.kind === 'thread' ? new ThreadTransport(this.entry) : new ProcessTransport(this.entry);
    } catch (err) {
      this.state = 'dead';
      this.events.exit(this, { code: null, signal: null, error: err as Error }, -1, false);
      return;
    }
    this.transport = t;
    t.onMessage((msg) => {
      if (Array.isArray(msg)) this.events.message(this, msg);
      else if (msg.t === 'closed') this.onClosed?.();
      else {
        if (msg.t === 'loaded') this.loaded++;
        this.events.message(this, msg);
      }
    });
    t.onExit((info) => {
      if (this.transport !== t) return;
      this.transport = undefined;
      const wasReady = this.state === 'ready';
      if (this.state !== 'gone') this.state = 'dead';
      this.onClosed?.();
      this.events.exit(this, info, t.id, wasReady);
    });
    t.send(init);
  }

  /** The worker takes call p; true when it held none before (it turns busy). */
  hold(p: PendingCall): boolean {
    p.slot = this;
    this.busy[p.model]++;
    this.held.set(p.id, p);
    return this.held.size === 1;
  }

  /** The worker no longer holds call p (it answered, or p could not be sent); true when it now holds none. */
  release(p: PendingCall): boolean {
    this.held.delete(p.id);
    this.busy[p.model]--;
    if (p.stuckTimer) {
      clearTimeout(p.stuckTimer);
      p.stuckTimer = undefined;
    }
    p.onReleased?.();
    return this.held.size === 0;
  }

  /** The worker ended: every call it held is released, `lost` told of each one; true when it held any. */
  releaseAll(lost: (p: PendingCall) => void): boolean {
    const had = this.held.size > 0;
    for (const p of this.held.values()) {
      if (p.stuckTimer) clearTimeout(p.stuckTimer);
      lost(p);
      p.onReleased?.();
    }
    this.held.clear();
    this.busy.fill(0);
    return had;
  }

  /** Send a message to the current worker; a worker going away is not an error here (its exit is handled). */
  post(msg: MainToWorker): void {
    try {
      this.transport?.send(msg);
    } catch {
      // the worker is going away: its exit handles the rest
    }
  }

  /** After call p was given up: replace the worker (and warn) if it still holds p `ms` later. */
  watchStuck(p: PendingCall, ms: number, logger: Logger, pool: string): void {
    const t = this.transport;
    if (t === undefined) return;
    p.stuckTimer = setTimeout(() => {
      p.stuckTimer = undefined;
      if (this.transport !== t || !this.held.has(p.id)) return;
      logger.warn({ pool, worker: this.index, id: t.id }, 'worker stuck on a given-up call; replacing it');
      this.kill(`terminated (stuck on a call ${ms} ms after it was given up)`);
    }, ms);
    p.stuckTimer.unref();
  }

  /** Stop the current worker now (it may be stuck: no goodbye); `why` goes into the failures of the calls it held. */
  kill(why: string): void {
    this.killedFor = why;
    void this.transport?.terminate(true);
  }

  /** Run the models' close() in the worker (up to closeMs when it is ready), then stop it for good. */
  async stop(closeMs: number): Promise<void> {
    const t = this.transport;
    const ready = this.state === 'ready';
    this.state = 'gone';
    if (t === undefined) return;
    if (ready && !t.exited) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, closeMs);
        this.onClosed = () => {
          clearTimeout(timer);
          resolve();
        };
        try {
          t.send({ t: 'close' });
        } catch {
          resolve();
        }
      });
      this.onClosed = undefined;
    }
    await t.terminate();
  }
}

/** A ready worker whose copy of model m has fewer than `max` calls: the least busy one. */
export function leastBusy(slots: readonly Slot[], m: number, max: number): Slot | undefined {
  let best: Slot | undefined;
  for (const s of slots) {
    if (s.state !== 'ready' || s.busy[m] >= max) continue;
    if (
      best === undefined ||
      s.busy[m] < best.busy[m] ||
      (s.busy[m] === best.busy[m] && s.held.size < best.held.size)
    ) {
      best = s;
    }
  }
  return best;
}

/** servegraph's compiled host entry; from the TypeScript sources (tests), the one in dist/. */
export function defaultEntry(kind: 'thread' | 'process'): URL {
  const file = kind === 'thread' ? 'thread-entry.js' : 'process-entry.js';
  const url = new URL(`../models/worker/${file}`, import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return url;
  return new URL(url.href.replace(/\/src\/models\/worker\//, '/dist/models/worker/'));
}
