import { placeError, SgError } from '../errors/index.js';
import { Event } from './event.js';
import type { EventOwner } from './owner.js';

/**
 * The owner of a batch event: the member events' owners, in member order (batching.md). A reply is
 * split item by item; a failure fails every member.
 */
export class BatchSlots implements EventOwner {
  private controller: AbortController | undefined;

  constructor(readonly members: readonly Event[]) {}

  acquire(n: number): void {
    for (const m of this.members) m._owner.acquire(n);
  }

  release(): void {
    for (const m of this.members) m._owner.release();
  }

  get cancelled(): boolean {
    return this.members.every((m) => m._owner.cancelled);
  }

  /** Aborts only when every member is cancelled (batching.md). */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = new AbortController();
      this.controller = controller;
      this.onCancel(() => controller.abort(this.members[0]?._owner.signal.reason));
    }
    return this.controller.signal;
  }

  onCancel(listener: () => void): () => void {
    let left = this.members.length;
    const offs = this.members.map((m) =>
      m._owner.onCancel(() => {
        if (--left === 0) listener();
      }),
    );
    return () => {
      for (const off of offs) off();
    };
  }

  /** Split the responder's output: item `i` answers member `i` (batching.md, "Split at the responder"). */
  reply(body: unknown, step: string): void {
    const size = this.members.length;
    if (!Array.isArray(body) || body.length !== size) {
      const got = Array.isArray(body) ? `${body.length} items` : 'a value that is not an array';
      this.fail(
        new SgError('SG_ERR_BATCH_SIZE_MISMATCH', `responder '${step}' got ${got} for a batch of ${size}`, {
          step,
          details: { expected: size, received: Array.isArray(body) ? body.length : null },
        }),
      );
      return;
    }
    for (let i = 0; i < size; i++) {
      const item = body[i];
      const owner = this.members[i]._owner;
      if (item instanceof Error) owner.fail(itemError(item, step));
      else owner.reply(item instanceof Event ? item.body : item, step);
    }
  }

  fail(err: SgError): void {
    for (const m of this.members) m._owner.fail(err);
  }
}

/** A per-item Error of a batch output: an SgError keeps its code, any other becomes SG_ERR_STEP_FAILED. */
export function itemError(item: Error, step: string, code = 'SG_ERR_STEP_FAILED'): SgError {
  if (item instanceof SgError) return placeError(item, step);
  return new SgError(code, `step '${step}' failed for this batch member: ${item.name}: ${item.message}`, {
    step,
    cause: item,
  });
}
