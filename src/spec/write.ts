import { describe, SgError } from '../errors/index.js';
import type { Graph } from '../graph/graph.js';
import type { Path } from '../graph/paths.js';
import type { Step } from '../graph/step.js';
import { modelDefSpec } from '../models/endpoint-spec.js';
import { registeredNameOf } from '../registry/registry.js';

/** The spec-file form of a graph (graph.md section 11); in-memory functions and classes that are not registered cannot be written. */
export function graphToSpec(graph: Graph): Record<string, unknown> {
  const spec: Record<string, unknown> = { kind: 'flow', name: graph.name, engine: 'async' };
  const st = graph._streaming;
  spec.streaming =
    st.maxBufferedChunks === 16 ? st.enabled : { enabled: st.enabled, maxBufferedChunks: st.maxBufferedChunks };
  if (graph._graphHandler !== undefined) spec.onError = graph._graphHandler;
  const steps: Record<string, unknown> = {};
  for (const step of graph._steps.values()) steps[step.name] = stepToSpec(graph, step);
  spec.steps = steps;
  if (Object.keys(graph._tracking).length > 0) spec.tracking = { ...graph._tracking };
  if (graph._shared.defs.size > 0) {
    const shared: Record<string, unknown> = {};
    for (const [name, def] of graph._shared.defs)
      shared[name] = modelDefSpec(def, { endpoint: name }, (t, what) => classRefOf(t, what, name));
    spec.sharedModels = shared;
  }
  if (Object.keys(graph._shared.resourceOptions).length > 0) spec.sharedPool = { ...graph._shared.resourceOptions };
  return spec;
}

function stepToSpec(graph: Graph, step: Step<unknown, unknown>): Record<string, unknown> {
  const classRef = (target: unknown, what: string): string => {
    if (typeof target === 'string') return target;
    const name = registeredNameOf(target);
    if (name !== undefined) return name;
    throw new SgError(
      'SG_ERR_NOT_SERIALIZABLE',
      `step '${step.name}': its ${what} is ${describe(target)} held in memory and not registered; register it with registerClass(name, target) or use a 'module#Export' reference`,
      { step: step.name, details: { field: what } },
    );
  };
  if (step.collect !== undefined) throw notSerializable(step, 'collect');
  const form = step._specForm(classRef);
  if (form.params) {
    const fn = findFunction(form.params);
    if (fn !== undefined) throw notSerializable(step, `params.${fn}`);
  }
  const out: Record<string, unknown> = { ...form };
  const after = graph._upstream(step.name);
  if (after.length > 0) out.after = after;
  if (step.inputPath) out.inputPath = pathForm(step.inputPath);
  if (step.resultPath) out.resultPath = pathForm(step.resultPath);
  if (step.fullEvent) out.fullEvent = true;
  if (step._responder) out.responder = true;
  const handler = graph._handlerOf.get(step.name);
  if (handler !== undefined) out.onError = handler;
  return out;
}

function notSerializable(step: Step<unknown, unknown>, field: string): SgError {
  return new SgError(
    'SG_ERR_NOT_SERIALIZABLE',
    `step '${step.name}': option '${field}' is a function, which exists in code only and cannot be written to a spec file`,
    {
      step: step.name,
      details: { field },
    },
  );
}

function pathForm(p: Path): string | string[] {
  return p.segments.some((s) => s.includes('.')) ? [...p.segments] : p.text;
}

/** The dotted key of the first function inside `v`, if any. */
function findFunction(v: unknown, prefix = ''): string | undefined {
  if (typeof v === 'function') return prefix || '(value)';
  if (v === null || typeof v !== 'object') return undefined;
  for (const [k, x] of Object.entries(v)) {
    const found = findFunction(x, prefix ? `${prefix}.${k}` : k);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A class or function as a reference string: a string as is, else its registered name. */
function classRefOf(target: unknown, what: string, owner: string): string {
  if (typeof target === 'string') return target;
  const name = registeredNameOf(target);
  if (name !== undefined) return name;
  throw new SgError(
    'SG_ERR_NOT_SERIALIZABLE',
    `shared model '${owner}': its ${what} is ${describe(target)} held in memory and not registered; register it with registerClass() or use a 'module#Export' reference`,
    {
      endpoint: owner,
      details: { field: what },
    },
  );
}
