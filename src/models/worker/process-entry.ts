import type { MainToWorker, WorkerToMain } from '../../executors/protocol.js';
import { runHost } from './host.js';

// The entry of a pool's child process: the host, spoken to through the IPC channel (advanced serialization).
const send = process.send?.bind(process);
if (send === undefined) throw new Error('servegraph process-entry must run in a forked child process');
// the parent is gone (even killed): this process must not outlive it; the parent's terminate() disconnects too
process.on('disconnect', () => process.exit(0));
// A terminal's Ctrl+C or systemd's stop signals the whole process group: the parent drains its requests, then stops
// this process itself, so a signal must not fail the calls in flight here. Once the parent has let go, it exits.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (!process.connected) process.exit(0);
  });
}
// a message the parent can no longer take (it closed the channel while this one was on its way: a pool closed
// during a load) fails in this callback instead of as an unhandled 'error' event that crashes this process with a
// stack trace; the 'disconnect' above ends the process
const dropIfGone = (err: Error | null): void => {
  // EPIPE: the parent's end is closed, though this side may not have seen the disconnect yet
  if (err !== null && process.connected && (err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
};
runHost({
  send: (msg: WorkerToMain) => {
    send(msg, undefined, undefined, dropIfGone);
  },
  onMessage: (fn: (msg: MainToWorker) => void) => process.on('message', fn as (m: unknown) => void),
});
