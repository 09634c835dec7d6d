import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MainToWorker, WorkerToMain } from './protocol.js';
import type { ExitInfo, Transport } from './transport.js';

const KILL_AFTER_MS = 2000;

/** Every live child of every pool: killed when the main process exits, so none outlives it. */
const live = new Set<ChildProcess>();
let exitHook = false;

function track(child: ChildProcess): void {
  live.add(child);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const c of live) {
        try {
          c.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
}

/** A child process (`fork(entry, { serialization: 'advanced', execArgv: process.execArgv })`). */
export class ProcessTransport implements Transport {
  readonly kind = 'process' as const;
  readonly id: number;
  exited = false;
  private readonly child: ChildProcess;
  private exitFn: ((info: ExitInfo) => void) | undefined;
  private exitInfo: ExitInfo | undefined;
  private readonly ended: Promise<void>;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(entry: URL) {
    this.child = fork(fileURLToPath(entry), [], { serialization: 'advanced', execArgv: process.execArgv });
    this.id = this.child.pid ?? -1;
    track(this.child);
    // a failed spawn, kill or send: the exit that follows (if any) is what counts
    this.child.on('error', () => {});
    this.ended = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        live.delete(this.child);
        if (this.killTimer) clearTimeout(this.killTimer);
        this.exitInfo = { code, signal };
        this.exitFn?.(this.exitInfo);
        resolve();
      });
    });
  }

  send(msg: MainToWorker): void {
    // throws synchronously when msg cannot be serialized; a closed channel reports through 'error'
    this.child.send(msg);
  }

  onMessage(fn: (msg: WorkerToMain) => void): void {
    this.child.on('message', fn as (m: unknown) => void);
  }

  onExit(fn: (info: ExitInfo) => void): void {
    this.exitFn = fn;
    if (this.exitInfo) fn(this.exitInfo);
  }

  terminate(force = false): Promise<void> {
    if (this.exited) return this.ended;
    if (force) {
      // a stuck or broken child: it may never read another message
      this.child.kill('SIGKILL');
      return this.ended;
    }
    if (this.killTimer === undefined) {
      // the child exits when its IPC channel closes (it ignores SIGINT/SIGTERM sent to the process group)
      if (this.child.connected) this.child.disconnect();
      else this.child.kill('SIGTERM');
      this.killTimer = setTimeout(() => {
        if (!this.exited) this.child.kill('SIGKILL');
      }, KILL_AFTER_MS);
      this.killTimer.unref();
    }
    return this.ended;
  }
}
