import type { Graph } from '../graph/graph.js';

/** Build a graph from a spec object (graph.md section 11). */
export function graphFromSpec(_spec: unknown, _options: { baseDir?: string; name?: string } = {}): Graph {
  throw new Error('not yet');
}

export function graphFromFile(_path: string): Graph {
  throw new Error('not yet');
}

export function graphToSpec(_graph: Graph): Record<string, unknown> {
  throw new Error('not yet');
}
