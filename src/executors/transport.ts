import type { MainToWorker, WorkerToMain } from './protocol.js';

/** How a worker ended: its exit code or the signal that killed it, and the uncaught error of a thread. */
export type ExitInfo = { code: number | null; signal: string | null; error?: Error };

/** A worker thread or child process, seen from the pool: one small interface for both. */
export interface Transport {
  readonly kind: 'thread' | 'process';
  /** the thread id or the process id */
  readonly id: number;
  /** Send a message; throws synchronously when it cannot be cloned. */
  send(msg: MainToWorker): void;
  /** The one message listener. */
  onMessage(fn: (msg: WorkerToMain) => void): void;
  /** Called once, when the worker has ended. */
  onExit(fn: (info: ExitInfo) => void): void;
  /**
   * Stop the worker (thread: terminate(); process: close its IPC channel, on which it exits, then SIGKILL 2 s later;
   * `force`: SIGKILL at once, for a stuck worker); resolves once it ended.
   */
  terminate(force?: boolean): Promise<void>;
  readonly exited: boolean;
}

/** `exit code 1`, `signal SIGKILL`, with the uncaught error of a thread when there was one. */
export function describeExit(info: ExitInfo): string {
  const how = info.signal ? `signal ${info.signal}` : `exit code ${info.code ?? 'unknown'}`;
  return info.error ? `${how} (${info.error.name}: ${info.error.message})` : how;
}
