import type { Graph } from '../graph/graph.js';

/** Text safe inside a quoted Mermaid label. */
function label(text: string): string {
  return text.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

/**
 * A Mermaid `flowchart LR` of a graph (graph.md section 1): a start node feeding the start steps, one
 * node per step labelled with its name (and kind), solid edges for `after`, dashed `error` edges to
 * error handlers, the responder drawn with a double border.
 */
export function toMermaid(graph: Graph): string {
  const ids = new Map<string, string>();
  for (const name of graph._steps.keys()) ids.set(name, `s${ids.size}`);
  const lines = ['flowchart LR', '  start(((start)))'];
  for (const step of graph._steps.values()) {
    const text = `${label(step.name)}<br/><small>${label(step._kindLabel())}</small>${step
      ._drawingExtra()
      .map((e) => `<br/>${label(e)}`)
      .join('')}`;
    const id = ids.get(step.name)!;
    lines.push(step._responder ? `  ${id}[["${text}"]]` : `  ${id}["${text}"]`);
  }
  for (const start of graph._starts()) lines.push(`  start --> ${ids.get(start)}`);
  for (const e of graph._edges) {
    const from = ids.get(e.from);
    const to = ids.get(e.to);
    if (from && to) lines.push(`  ${from} --> ${to}`);
  }
  for (const [step, handler] of graph._handlerOf) {
    const from = ids.get(step);
    const to = ids.get(handler);
    if (from && to) lines.push(`  ${from} -. error .-> ${to}`);
  }
  if (graph._graphHandler !== undefined && ids.has(graph._graphHandler)) {
    for (const step of graph._steps.keys()) {
      if (!graph._handlerOf.has(step) && !graph._handlers.has(step))
        lines.push(`  ${ids.get(step)} -. error .-> ${ids.get(graph._graphHandler)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
