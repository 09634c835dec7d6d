import type { Graph } from '../graph/graph.js';
import { buildGraph } from './build.js';

export { graphFromFile, parseSpecText, saveGraphFile } from './files.js';
export { graphToSpec } from './write.js';

/** Build a graph from a spec object (graph.md section 11). */
export function graphFromSpec(spec: unknown, options: { baseDir?: string } = {}): Graph {
  return buildGraph(spec, options);
}
