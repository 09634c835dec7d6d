import { isThenable, StepCallContext } from '../engine/context.js';
import type { Event } from '../engine/event.js';
import type { Outlet, Processor } from '../engine/processor.js';
import { describe, SgError } from '../errors/index.js';
import type { Graph } from '../graph/graph.js';
import { readPath } from '../graph/paths.js';
import { isStep, type Step } from '../graph/step.js';
import type { PathOption, StepContext } from '../graph/types.js';
import { HandlerStep } from './handler-step.js';

const ALLOWED = ['name', 'handler', 'inputPath', 'fullEvent'] as const;

export type ChoiceTarget = string | Step<unknown, unknown>;
export type ChoiceResult = ChoiceTarget | ChoiceTarget[];
export type ChoiceOptions<In> = {
  name?: string;
  handler: ((input: In, ctx: StepContext) => ChoiceResult | Promise<ChoiceResult>) | string;
  inputPath?: PathOption;
  fullEvent?: boolean;
};

/** Routes the event, unchanged, to the downstream steps its handler names (graph.md section 7). */
export class Choice<In = unknown> extends HandlerStep<In, In, ChoiceResult | Promise<ChoiceResult>> {
  constructor(options: ChoiceOptions<In>) {
    super('Choice', ALLOWED, options);
  }

  override _canHandleErrors(): boolean {
    return false;
  }

  override _kindLabel(): string {
    return 'choice';
  }

  override _validateInGraph(graph: Graph): void {
    if (graph._downstream(this.name).length === 0) {
      throw new SgError(
        'SG_ERR_CHOICE_INVALID',
        `Choice '${this.name}' has no downstream step to choose from: add branches with step.to()`,
        {
          step: this.name,
        },
      );
    }
  }

  override _processor(): Processor {
    const fn = this.fn as (input: unknown, ctx: StepContext) => unknown;
    const { name, inputPath, fullEvent } = this;
    const steps = this._graph?._steps;

    const route = (ev: Event, result: unknown, out: Outlet): void => {
      const allowed = out.downstream;
      const invalid = (why: string) =>
        new SgError(
          'SG_ERR_CHOICE_INVALID',
          `Choice '${name}' ${why}; allowed branches: ${allowed.map((a) => `'${a}'`).join(', ')}`,
          {
            step: name,
            details: { allowed: [...allowed] },
          },
        );
      const list = Array.isArray(result) ? result : [result];
      const names: string[] = [];
      for (const t of list) {
        const n = typeof t === 'string' ? t : isStep(t) ? t.name : undefined;
        if (n === undefined) throw invalid(`returned ${describe(t)}, expected a step name or step`);
        if (typeof t !== 'string' && steps?.get(n) !== t) throw invalid(`chose a step '${n}' of another graph`);
        if (!allowed.includes(n)) throw invalid(`chose '${n}', which is not one of its downstream steps`);
        if (names.includes(n)) throw invalid(`chose '${n}' twice`);
        names.push(n);
      }
      if (names.length > 0) out.emitTo(names, ev);
    };

    return {
      process(ev: Event, out: Outlet): void | Promise<void> {
        const input = fullEvent ? ev : inputPath === undefined ? ev.body : readPath(ev.body, inputPath, name);
        const result = fn(input, new StepCallContext(ev));
        if (isThenable(result)) return Promise.resolve(result).then((r) => route(ev, r, out));
        route(ev, result, out);
      },
    };
  }
}
