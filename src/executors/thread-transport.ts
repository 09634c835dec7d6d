import { Worker } from 'node:worker_threads';
import type { MainToWorker, WorkerToMain } from './protocol.js';
import type { ExitInfo, Transport } from './transport.js';

/** process.execArgv without the flags a Worker refuses (V8 and per-process flags); computed once. */
let workerExecArgv: string[] | undefined;

function spawnWorker(entry: URL): Worker {
  const argv = workerExecArgv ?? process.execArgv;
  try {
    const w = new Worker(entry, { execArgv: argv });
    workerExecArgv = argv;
    return w;
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    // "Initiated Worker with invalid execArgv flags: --expose-gc, --max-old-space-size=100"
    const bad = new Set(
      String((err as Error).message)
        .replace(/^[^:]*:\s*/, '')
        .split(/,\s*/),
    );
    const filtered = argv.filter((a) => !bad.has(a));
    try {
      const w = new Worker(entry, { execArgv: filtered });
      workerExecArgv = filtered;
      return w;
    } catch {
      // the default: the worker inherits the parent thread's options
      const w = new Worker(entry);
      workerExecArgv = undefined;
      return w;
    }
  }
}

/** A worker thread (`new Worker(entry, { execArgv: process.execArgv })`), spoken to with postMessage. */
export class ThreadTransport implements Transport {
  readonly kind = 'thread' as const;
  readonly id: number;
  exited = false;
  private readonly worker: Worker;
  private uncaught: Error | undefined;
  private exitFn: ((info: ExitInfo) => void) | undefined;
  private exitInfo: ExitInfo | undefined;
  private readonly ended: Promise<void>;

  constructor(entry: URL) {
    this.worker = spawnWorker(entry);
    this.id = this.worker.threadId;
    // an uncaught error in the thread: 'error' comes first, then 'exit' with code 1
    this.worker.on('error', (err) => {
      this.uncaught = err instanceof Error ? err : new Error(String(err));
    });
    this.worker.on('messageerror', () => {});
    this.ended = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.exited = true;
        this.exitInfo = { code, signal: null, error: this.uncaught };
        this.exitFn?.(this.exitInfo);
        resolve();
      });
    });
  }

  send(msg: MainToWorker): void {
    this.worker.postMessage(msg);
  }

  onMessage(fn: (msg: WorkerToMain) => void): void {
    this.worker.on('message', fn);
  }

  onExit(fn: (info: ExitInfo) => void): void {
    this.exitFn = fn;
    if (this.exitInfo) fn(this.exitInfo);
  }

  terminate(): Promise<void> {
    if (!this.exited) void this.worker.terminate();
    return this.ended;
  }
}
