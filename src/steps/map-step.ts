import { callProcessor } from '../engine/invoke.js';
import type { CompileContext, Processor } from '../engine/processor.js';
import type { StepContext, StepOptions } from '../graph/types.js';
import { HandlerStep } from './handler-step.js';

const ALLOWED = ['name', 'handler', 'inputPath', 'resultPath', 'fullEvent', 'streaming', 'collect'] as const;

/** One event in, one event out: the handler's output becomes the body, or is written at `resultPath`. */
export class MapStep<In = unknown, Out = unknown> extends HandlerStep<In, Out, Out | Promise<Out>> {
  static override mayStream = true;

  constructor(options: StepOptions & { handler: ((input: In, ctx: StepContext) => Out | Promise<Out>) | string }) {
    super('MapStep', ALLOWED, options);
  }

  override _kindLabel(): string {
    return 'map';
  }

  override _processor(ctx: CompileContext): Processor {
    return callProcessor(this, this.fn!, undefined, ctx.streaming);
  }
}
