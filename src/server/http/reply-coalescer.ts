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
 * A reply waits for the rest of its turn, and never longer than `maxHoldMs` after the oldest one held: a reply
 * decided later than that writes them all at once. So a reply waits at most `maxHoldMs` plus the one stretch
 * of synchronous work (a step that blocks the loop) running when that time passes.
 */
export class ReplyCoalescer {
  private responses: ServerResponse[] = [];
  private payloads: Array<string | Buffer | undefined> = [];
  /** performance.now() when the oldest reply held was decided */
  private heldSince = 0;
  /** the end of this turn is queued (it stays queued when the replies were written early) */
  private turnQueued = false;

  /** `maxHoldMs` 0: every reply is written at once. */
  constructor(private readonly maxHoldMs: number) {}

  /** End `res` with `payload`, now or with the other replies of this turn. */
  end(res: ServerResponse, payload: string | Buffer | undefined): void {
    if (this.maxHoldMs === 0) {
      res.end(payload);
      return;
    }
    this.responses.push(res);
    this.payloads.push(payload);
    if (this.responses.length === 1) {
      this.heldSince = performance.now();
      if (!this.turnQueued) {
        this.turnQueued = true;
        setImmediate(this.endTurn);
      }
    } else if (performance.now() - this.heldSince >= this.maxHoldMs) {
      this.flush();
    }
  }

  /** Write every reply held, in the order they were decided. */
  private flush(): void {
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
    // cleared first: a reply decided while these are written queues a turn end of its own
    this.turnQueued = false;
    this.flush();
  };
}
