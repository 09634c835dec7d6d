import { afterEach } from 'vitest';
import { createGraph, type Graph, MapStep, type MockServer, type StepContext } from '../../src/index.js';
import { quietServer } from '../support/core.js';

/** Shared helpers of the streaming tests. */

export { deferred, rejectsSg, sleep, throwsSg, waitFor } from '../support/core.js';

const servers: MockServer[] = [];

/** A quiet mock server, closed after the test. */
export function serve(graph: Graph, options: Parameters<typeof quietServer>[1] = {}): MockServer {
  const s = quietServer(graph, options);
  servers.push(s);
  return s;
}

/** Close the servers made by serve() after each test of the file that calls it. */
export function closeServersAfterEach(): void {
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 1000 })));
  });
}

/** A streaming MapStep yielding the words of its input string, returning { words } as summary. */
export function words(name = 'words', extra: Record<string, unknown> = {}) {
  return new MapStep({
    name,
    ...extra,
    handler: async function* (text: string) {
      const ws = text.split(' ');
      for (const w of ws) yield w;
      return { words: ws.length };
    },
  });
}

/** A streaming MapStep yielding each item of the array it receives (or `n` numbers for a number). */
export function items(name = 'items') {
  return new MapStep({
    name,
    handler: async function* (input: unknown) {
      const list = typeof input === 'number' ? Array.from({ length: input }, (_, i) => i) : (input as unknown[]);
      for (const x of list) yield x;
    },
  });
}

/** A streaming MapStep that yields 0, 1, 2, … until cancelled; `state` records what it saw. */
export function endless(
  state: { produced: number; closed: boolean; abortedInFinally?: boolean; reason?: unknown },
  name = 'endless',
) {
  return new MapStep({
    name,
    handler: async function* (_x: unknown, ctx: StepContext) {
      try {
        for (let i = 0; ; i++) {
          state.produced++;
          yield i;
        }
      } finally {
        state.abortedInFinally = ctx.signal.aborted;
        state.reason = ctx.signal.reason;
        state.closed = true;
      }
    },
  });
}

/** Read a whole TestStream: its items, and its done payload (or the error). */
export async function readAll(s: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const c of s) out.push(c);
  return out;
}

export { createGraph };
