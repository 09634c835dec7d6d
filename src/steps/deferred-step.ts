import { callProcessor } from '../engine/invoke.js';
import type { CompileContext, Processor } from '../engine/processor.js';
import { describe, SgError } from '../errors/index.js';
import { hasOwnDo, isStepClass, Step, type StepSpecForm } from '../graph/step.js';
import type { StepOptions } from '../graph/types.js';

/**
 * A user step named in a spec file by a reference that is only imported when the server starts
 * (`./steps.js#Format`). At start-up it builds the real step and runs through it.
 */
export class DeferredStep extends Step<unknown, unknown> {
  private inner: Step<unknown, unknown> | undefined;

  constructor(
    readonly classRef: string,
    options: StepOptions,
  ) {
    super(options);
  }

  override async _resolve(ctx: CompileContext): Promise<void> {
    const target = await ctx.resolve(this.classRef, this.name, 'class');
    if (!isStepClass(target)) {
      throw new SgError(
        'SG_ERR_INVALID_CLASS',
        `step '${this.name}': class '${this.classRef}' is ${describe(target)}, expected a class that extends Step`,
        {
          step: this.name,
          details: { reference: this.classRef, expected: 'a Step subclass' },
        },
      );
    }
    const options: StepOptions = { ...this._params, name: this.name, fullEvent: this.fullEvent };
    if (this.inputPath) options.inputPath = [...this.inputPath.segments];
    if (this.resultPath) options.resultPath = [...this.resultPath.segments];
    if (this.fullEvent) {
      delete options.inputPath;
      delete options.resultPath;
    }
    try {
      this.inner = new target(options);
    } catch (err) {
      if (err instanceof SgError) throw err;
      throw new SgError(
        'SG_ERR_STEP_INIT',
        `step '${this.name}': constructing ${this.classRef} failed: ${err instanceof Error ? err.message : String(err)}`,
        {
          step: this.name,
          cause: err,
        },
      );
    }
    await this.inner._resolve(ctx);
  }

  /** Known once the class is imported at start-up (streaming.md: rules for references are checked then). */
  override _streams(): boolean {
    return this.inner?._streams() ?? this.streaming;
  }

  override _processor(ctx: CompileContext): Processor {
    const inner = this.inner!;
    const own = inner._processor(ctx);
    if (own) return own;
    if (!hasOwnDo(inner)) {
      throw new SgError(
        'SG_ERR_INVALID_CLASS',
        `step '${this.name}': class '${this.classRef}' does not implement do(input, ctx)`,
        {
          step: this.name,
        },
      );
    }
    return callProcessor(inner, inner.do, inner, ctx.streaming);
  }

  override async _start(): Promise<void> {
    await this.inner?._start();
  }

  override async _stop(): Promise<void> {
    await this.inner?._stop();
  }

  override _specForm(): StepSpecForm {
    const form: StepSpecForm = { class: this.classRef };
    if (Object.keys(this._params).length > 0) form.params = { ...this._params };
    return form;
  }
}
