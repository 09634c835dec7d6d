import { parentPort } from 'node:worker_threads';
import type { MainToWorker, WorkerToMain } from '../../executors/protocol.js';
import { runHost } from './host.js';

// The entry of a pool's worker thread: the host, spoken to through parentPort (postMessage).
const port = parentPort;
if (port === null) throw new Error('servegraph thread-entry must run in a worker thread');
runHost({
  send: (msg: WorkerToMain) => port.postMessage(msg),
  onMessage: (fn: (msg: MainToWorker) => void) => port.on('message', fn),
});
