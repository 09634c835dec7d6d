import { isThenable, StepCallContext } from '../engine/context.js';
import type { Event } from '../engine/event.js';
import type { Outlet, Processor } from '../engine/processor.js';
import { readPath } from '../graph/paths.js';
import type { PathOption, StepContext } from '../graph/types.js';
import { HandlerStep } from './handler-step.js';

const ALLOWED = ['name', 'handler', 'inputPath', 'fullEvent'] as const;

export type FilterOptions<In> = {
  name?: string;
  handler: ((input: In, ctx: StepContext) => unknown) | string;
  inputPath?: PathOption;
  fullEvent?: boolean;
};

/** Passes the event on unchanged when the handler's result is truthy; drops it otherwise. */
export class Filter<In = unknown> extends HandlerStep<In, In, unknown> {
  constructor(options: FilterOptions<In>) {
    super('Filter', ALLOWED, options);
  }

  override _canHandleErrors(): boolean {
    return false;
  }

  override _kindLabel(): string {
    return 'filter';
  }

  override _processor(): Processor {
    const fn = this.fn as (input: unknown, ctx: StepContext) => unknown;
    const { name, inputPath, fullEvent } = this;
    return {
      process(ev: Event, out: Outlet): void | Promise<void> {
        const input = fullEvent ? ev : inputPath === undefined ? ev.body : readPath(ev.body, inputPath, name);
        const keep = fn(input, new StepCallContext(ev));
        if (isThenable(keep)) {
          return Promise.resolve(keep).then((k) => {
            if (k) out.emit(ev);
          });
        }
        if (keep) out.emit(ev);
      },
    };
  }
}
