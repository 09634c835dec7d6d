import type { StepContext } from '../graph/types.js';
import type { Event } from './event.js';

/** The `ctx` of a handler call: the event, and its request's signal, created only when read. */
export class StepCallContext implements StepContext {
  constructor(readonly event: Event) {}

  get signal(): AbortSignal {
    return this.event._owner.signal;
  }
}

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

export function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}
