export type {
  MainToWorker,
  PoolMechanism,
  PoolModelSpec,
  WireCallContext,
  WorkerToMain,
} from './protocol.js';
export type { ExitInfo, Transport } from './transport.js';
export { type PoolCall, type PoolCallContext, type PoolOptions, WorkerPool } from './worker-pool.js';
