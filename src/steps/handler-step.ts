import type { CompileContext } from '../engine/processor.js';
import { describe, SgError } from '../errors/index.js';
import { isGeneratorFunction, rejectUnknownOptions, Step, type StepSpecForm } from '../graph/step.js';
import type { StepContext, StepOptions } from '../graph/types.js';

/** A handler: a function, or a class-reference string naming one (graph.md section 12). */
export type HandlerRef<In, R> = ((input: In, ctx: StepContext) => R) | string;

/**
 * The common ground of MapStep, Filter, FlatMap and Choice: a `handler` option that is a function or
 * a reference resolved when the server starts.
 */
export abstract class HandlerStep<In, Out, R> extends Step<In, Out> {
  /** the handler as given: a function, or a reference string */
  readonly handler: HandlerRef<In, R>;
  /** @internal the function, once resolved */
  protected fn: Function | undefined;

  constructor(kind: string, allowed: readonly string[], options: StepOptions & { handler: HandlerRef<In, R> }) {
    if (options === null || typeof options !== 'object') {
      throw new SgError('SG_ERR_INVALID_OPTION', `${kind} options must be an object, got ${describe(options)}`);
    }
    rejectUnknownOptions(kind, options, allowed);
    super(options);
    const h = options.handler;
    if (typeof h === 'function' ? isClass(h) : typeof h !== 'string' || h === '') {
      throw this.optionError('handler', 'a function or a class-reference string', h);
    }
    this.handler = h;
    this.fn = typeof h === 'function' ? h : undefined;
  }

  /** whether a generator-function handler makes this kind of step a streaming step (MapStep only) */
  static mayStream = false;

  protected override streamSource(options: StepOptions): unknown {
    return (this.constructor as typeof HandlerStep).mayStream ? options.handler : undefined;
  }

  override async _resolve(ctx: CompileContext): Promise<void> {
    if (typeof this.handler !== 'string') return;
    const target = await ctx.resolve(this.handler, this.name, 'handler');
    if (typeof target !== 'function' || isClass(target)) {
      throw new SgError(
        'SG_ERR_INVALID_CLASS',
        `step '${this.name}': handler '${this.handler}' is ${isClass(target) ? `the class ${target.name}` : describe(target)}, expected a function`,
        {
          step: this.name,
          details: { reference: this.handler, expected: 'function' },
        },
      );
    }
    this.fn = target;
    // a handler named by reference is known only now: a generator function makes a streaming step
    if ((this.constructor as typeof HandlerStep).mayStream && this._params.streaming === undefined) {
      (this as { streaming: boolean }).streaming = isGeneratorFunction(target);
    }
  }

  override _specForm(classRef: (target: unknown, what: string) => string): StepSpecForm {
    const form: StepSpecForm = { class: this.constructor.name, handler: classRef(this.handler, 'handler') };
    const params = { ...this._params };
    delete params.handler;
    if (Object.keys(params).length > 0) form.params = params;
    return form;
  }
}

/** A `class` declaration: a function that cannot be called without `new`, so never a handler. */
function isClass(fn: unknown): fn is Function {
  return typeof fn === 'function' && Function.prototype.toString.call(fn).startsWith('class');
}
