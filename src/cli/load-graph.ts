import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, SgError } from '../errors/index.js';
import { Graph, isGraph } from '../graph/graph.js';

const SPEC_EXTS = new Set(['.yaml', '.yml', '.json']);

/** A graph file: a YAML/JSON spec, or a module whose default export is a Graph. */
export async function loadGraphFile(file: string): Promise<Graph> {
  if (SPEC_EXTS.has(extname(file).toLowerCase())) return Graph.fromFile(file);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
  } catch (err) {
    throw new SgError(
      'SG_ERR_MODULE_LOAD',
      `cannot import graph module '${file}': ${err instanceof Error ? err.message : String(err)}`,
      {
        details: { module: file },
        cause: err,
      },
    );
  }
  const graph = mod.default;
  if (!isGraph(graph)) {
    throw new SgError(
      'SG_ERR_INVALID_CLASS',
      `graph module '${file}' must have a default export that is a Graph (made by createGraph() of this servegraph), got ${describe(graph)}`,
      { details: { module: file, expected: 'Graph' } },
    );
  }
  return graph;
}
