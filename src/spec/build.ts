import { SgError } from '../errors/index.js';
import { Graph } from '../graph/graph.js';
import { isStepClass, type Step } from '../graph/step.js';
import type { StepOptions } from '../graph/types.js';
import { splitReference } from '../registry/references.js';
import { lookupRegistered } from '../registry/registry.js';
import { DeferredStep } from '../steps/deferred-step.js';
import { fromZodError, invalidSpec } from './errors.js';
import { addSharedModels, makeRunner } from './models.js';
import { type GraphSpec, graphSpecSchema, type StepSpec } from './schema.js';

/** Build (and validate) a graph from a spec object (graph.md section 11). */
export function buildGraph(spec: unknown, options: { baseDir?: string; name?: string } = {}): Graph {
  const parsed = graphSpecSchema.safeParse(spec);
  if (!parsed.success) throw fromZodError(parsed.error);
  const s: GraphSpec = parsed.data;
  const graph = new Graph({ name: s.name ?? options.name ?? 'default', baseDir: options.baseDir });

  const baseDir = options.baseDir ?? process.cwd();
  addSharedModels(graph, s.sharedModels, s.sharedPool, baseDir);
  for (const [name, step] of Object.entries(s.steps)) {
    const after = step.after === undefined ? [] : Array.isArray(step.after) ? step.after : [step.after];
    graph._addUnchecked(step.kind === 'model_runner' ? makeRunner(name, step, baseDir) : makeStep(name, step), after);
    if (step.responder) graph._steps.get(name)!._responder = true;
  }
  for (const [name, step] of Object.entries(s.steps)) {
    if (step.onError !== undefined) graph._setHandlerUnchecked(name, step.onError);
  }
  if (s.onError !== undefined) {
    graph._graphHandler = s.onError;
    graph._handlers.add(s.onError);
  }
  if (s.streaming !== undefined) {
    const st = typeof s.streaming === 'boolean' ? { enabled: s.streaming } : s.streaming;
    graph.setStreaming(
      st.enabled ?? true,
      st.maxBufferedChunks === undefined ? {} : { maxBufferedChunks: st.maxBufferedChunks },
    );
  }
  if (s.tracking !== undefined) graph.setTracking(s.tracking === false ? { enabled: false } : s.tracking);
  graph.validate();
  return graph;
}

/** One step from its spec: a built-in or registered class built now, or a module reference loaded at start-up. */
function makeStep(name: string, spec: StepSpec): Step<unknown, unknown> {
  const at = `steps.${name}`;
  for (const f of ['models', 'modelSelector', 'modelSelectorParameters', 'raiseException', 'pool'] as const) {
    if (spec[f] !== undefined) throw invalidSpec(`${at}.${f}`, `'${f}' is a field of kind 'model_runner' steps only`);
  }
  if (spec.class === undefined)
    throw invalidSpec(`${at}.class`, "a step of kind 'task' needs a class (e.g. MapStep or ./steps.js#MyStep)");
  const options: StepOptions = { ...spec.params, name };
  if (spec.handler !== undefined) options.handler = spec.handler;
  if (spec.inputPath !== undefined) options.inputPath = spec.inputPath;
  if (spec.resultPath !== undefined) options.resultPath = spec.resultPath;
  if (spec.fullEvent !== undefined) options.fullEvent = spec.fullEvent;

  const target = splitReference(spec.class) === undefined ? lookupRegistered(spec.class) : undefined;
  try {
    if (isStepClass(target)) return new target(options);
    if (spec.handler !== undefined) {
      throw invalidSpec(
        `${at}.handler`,
        `handler is only for MapStep, Filter, FlatMap and Choice, not '${spec.class}'`,
      );
    }
    return new DeferredStep(spec.class, options);
  } catch (err) {
    if (err instanceof SgError && err.code === 'SG_ERR_INVALID_OPTION') {
      const field = typeof err.details.field === 'string' ? err.details.field : undefined;
      const where =
        field === undefined
          ? at
          : ['name', 'handler', 'inputPath', 'resultPath', 'fullEvent'].includes(field)
            ? `${at}.${field}`
            : `${at}.params.${field}`;
      throw invalidSpec(where, err.message, err);
    }
    throw err;
  }
}
