import type { Graph } from '../graph/graph.js';

export function toMermaid(_graph: Graph): string {
  throw new Error('not yet');
}
