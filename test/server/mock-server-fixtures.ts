import { afterEach } from 'vitest';
import {
  createGraph,
  type createMockServer,
  type Event,
  MapStep,
  type MockServer,
  type StepContext,
} from '../../src/index.js';
import { quietServer } from '../support/core.js';

export const servers: MockServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
});

/** A server whose responder answers with the event's fields. */

export function echo() {
  const g = createGraph();
  g.to(
    new MapStep({
      name: 'echo',
      fullEvent: true,
      handler: (ev: Event) => ({
        id: ev.id,
        body: ev.body,
        path: ev.path,
        method: ev.method,
        headers: ev.headers,
        query: ev.query,
        contentType: ev.contentType,
        ts: ev.timestamp instanceof Date,
      }),
    }),
  ).respond();
  const s = quietServer(g);
  servers.push(s);
  return s;
}

/** A server whose one step waits on `gate` (per event, via ctx) before answering its body. */

export function gated(gate: Promise<unknown>, options: Parameters<typeof createMockServer>[1] = {}) {
  const signals: AbortSignal[] = [];
  const g = createGraph();
  g.to(
    new MapStep({
      name: 'wait',
      handler: async (b: unknown, ctx: StepContext) => {
        signals.push(ctx.signal);
        await gate;
        return b;
      },
    }),
  ).respond();
  const server = quietServer(g, options);
  servers.push(server);
  return { server, signals };
}
