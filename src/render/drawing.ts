import type { Graph } from '../graph/graph.js';

/** An endpoint row of a step node: its name and the text shown (name and mechanism for a runner). */
export type DrawnEndpoint = { name: string; label: string };

/** One step of the drawing, with what every renderer shows of it (graph.md section 1). */
export type DrawnStep = {
  name: string;
  /** the short kind: 'map', 'filter', 'flatMap', 'choice', 'batch', 'collector', 'model runner', 'step' */
  kind: string;
  /** text lines that are not endpoints */
  extra: string[];
  endpoints: DrawnEndpoint[];
  responder: boolean;
  collector: boolean;
  handler: boolean;
  /** the step produces a stream (streaming enabled and `_streams()`) */
  streams: boolean;
};

/** `after` edges (`flow`, or `stream` when a stream runs along them) and `error` edges to error handlers. */
export type DrawnEdge = { from: string; to: string; type: 'flow' | 'stream' | 'error' };

/** A renderer-neutral drawing of a graph: its steps in insertion order, its start steps and its edges. */
export type Drawing = { name: string; steps: DrawnStep[]; starts: string[]; edges: DrawnEdge[] };

/** The drawing of `graph`: the same nodes and edges as its Mermaid form, plus where streams flow. */
export function drawingOf(graph: Graph): Drawing {
  const streaming = graph.streaming;
  const steps: DrawnStep[] = [];
  for (const step of graph._steps.values()) {
    const extra = step._drawingExtra();
    const names = step._endpointNames();
    // a runner's extra lines are its endpoints, in order, with their mechanisms
    const paired = names.length > 0 && names.length === extra.length;
    steps.push({
      name: step.name,
      kind: step._kindLabel(),
      extra: paired ? [] : extra,
      endpoints: names.map((name, i) => ({ name, label: paired ? extra[i]! : name })),
      responder: step._responder,
      collector: step._streamRole() === 'collector',
      handler: graph._handlers.has(step.name),
      streams: streaming && step._streams(),
    });
  }
  const carries = streamCarriers(graph);
  const edges: DrawnEdge[] = [];
  for (const e of graph._edges) {
    if (!graph._steps.has(e.from) || !graph._steps.has(e.to)) continue;
    edges.push({ from: e.from, to: e.to, type: streaming && carries(e.from) ? 'stream' : 'flow' });
  }
  for (const [step, handler] of graph._handlerOf) {
    if (graph._steps.has(step) && graph._steps.has(handler)) edges.push({ from: step, to: handler, type: 'error' });
  }
  const last = graph._graphHandler;
  if (last !== undefined && graph._steps.has(last)) {
    for (const step of graph._steps.keys()) {
      if (!graph._handlerOf.has(step) && !graph._handlers.has(step))
        edges.push({ from: step, to: last, type: 'error' });
    }
  }
  return { name: graph.name, steps, starts: graph._starts(), edges };
}

/**
 * Whether a step's output is a stream (streaming.md): it streams itself, or it passes on the stream it
 * receives (any step but a Collector or an error handler).
 */
function streamCarriers(graph: Graph): (name: string) => boolean {
  const memo = new Map<string, boolean>();
  const out = (name: string): boolean => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    memo.set(name, false); // guards against a loop in a graph that is not validated yet
    const step = graph._steps.get(name);
    let result = false;
    if (step !== undefined) {
      if (step._streams()) result = true;
      else if (step._streamRole() !== 'collector' && !graph._handlers.has(name))
        result = graph._upstream(name).some(out);
    }
    memo.set(name, result);
    return result;
  };
  return out;
}
