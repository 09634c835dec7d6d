import type { Logger } from 'pino';
import type { PoolMechanism, PoolModelSpec, WireCallContext } from './protocol.js';

/** The public types of WorkerPool (model-runner.md section 8). */

export type PoolOptions = {
  /** `'<step>/thread_pool'`, `'<step>/process_pool'`, `'<step>/<endpoint>'`, `'shared/…'` */
  name: string;
  kind: 'thread' | 'process';
  mechanism: PoolMechanism;
  size: number;
  models: PoolModelSpec[];
  maxQueue: number;
  logger: Logger;
  /** LLM provider schemes registered on the main thread: scheme → 'url#Export', or null when a worker cannot import it */
  providers?: Record<string, string | null>;
  /** the worker's entry module; default: servegraph's compiled host entry for the kind */
  entry?: URL;
  /** told the calls waiting and the workers busy and idle whenever they change (`servegraph_pool_*`) */
  gauges?: { set(queueDepth: number, busy: number, idle: number): void };
};

export type PoolCallContext = WireCallContext;

export type PoolCall = {
  model: string;
  input: unknown;
  ctx: PoolCallContext;
  signal?: AbortSignal;
  /** counted from when call() is made, queue time included; 0 or undefined: no limit */
  timeoutMs?: number;
  onUsage?: (usage: unknown) => void;
  /** the call is handed to a worker (its time in the queue ends) */
  onStart?: () => void;
};
