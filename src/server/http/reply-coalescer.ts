import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * Ends the responses of plain replies together, at the end of the event-loop turn that decided them
 * (`coalesceRepliesMs`, http.md). Each response is still its own write; what is saved is the peer's wake-up.
 * On loopback (a client, proxy or sidecar on the same host) the kernel wakes the reading process inside the
 * writer's send call, and a peer that went back to sleep between two replies costs that wake-up every time:
 * in this project's benchmark it was a third of a small request's CPU (bench/RESULTS.md, session 7). Replies
 * written back to back find the peer still awake. This is the write batching of Redis (replies written before
 * the event loop sleeps) and of Netty's flush consolidation.
 *
 * Holding must not cost latency where steps are slow: a turn whose replies are decided more than `maxHoldMs`
 * apart (a step blocking the loop) writes those held at that point and the rest at once, and so do the turns
 * after it until one is short again.
 */
export class ReplyCoalescer {
  private responses: ServerResponse[] = [];
  private payloads: Array<string | Buffer | undefined> = [];
  /** performance.now() at the first reply of the current turn; -1: no reply yet this turn */
  private turnStartedAt = -1;
  /** this turn's replies are written at once (the last turn was long, or this one is) */
  private direct = false;
  /** this turn's replies have been more than maxHoldMs apart */
  private longTurn = false;

  /** `maxHoldMs` 0: every reply is written at once. */
  constructor(private readonly maxHoldMs: number) {}

  /** End `res` with `payload`, now or with the other replies of this turn. */
  end(res: ServerResponse, payload: string | Buffer | undefined): void {
    if (this.maxHoldMs === 0) {
      res.end(payload);
      return;
    }
    if (this.turnStartedAt < 0) {
      this.turnStartedAt = performance.now();
      setImmediate(this.endTurn);
    } else if (!this.longTurn && performance.now() - this.turnStartedAt >= this.maxHoldMs) {
      this.longTurn = true;
      this.direct = true;
      this.flush();
    }
    if (this.direct) {
      res.end(payload);
      return;
    }
    this.responses.push(res);
    this.payloads.push(payload);
  }

  /** Write every reply held, in the order they were decided. */
  flush(): void {
    const responses = this.responses;
    if (responses.length === 0) return;
    const payloads = this.payloads;
    this.responses = [];
    this.payloads = [];
    for (let i = 0; i < responses.length; i++) {
      const res = responses[i]!;
      // a client that went away meanwhile: its response closed unfinished, recorded as 499 (lifecycle.ts)
      if (!res.destroyed) res.end(payloads[i]);
    }
  }

  private readonly endTurn = (): void => {
    // the next turn holds its replies only if this one was short
    this.direct = this.longTurn;
    this.longTurn = false;
    this.turnStartedAt = -1;
    this.flush();
  };
}
