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

/**
 * The text a graph module's optional `banner({ url })` export returns, for `servegraph serve` to print under
 * its serving line (a demo's "open this, try that"). Spec files have none. A banner that throws or returns
 * something other than a string is reported as a warning: it never stops the server.
 */
export async function bannerOf(file: string, url: string): Promise<{ text?: string; warning?: string }> {
  if (SPEC_EXTS.has(extname(file).toLowerCase())) return {};
  // loadGraphFile imported the module already: this is the cached module, not a second run
  const mod = (await import(pathToFileURL(resolve(file)).href)) as { banner?: unknown };
  if (mod.banner === undefined) return {};
  if (typeof mod.banner !== 'function') {
    return {
      warning: `export 'banner' of '${file}' must be a function ({ url }) => string, got ${describe(mod.banner)}`,
    };
  }
  try {
    const text: unknown = await mod.banner({ url });
    if (typeof text === 'string') return { text };
    return { warning: `banner({ url }) of '${file}' must return a string, got ${describe(text)}` };
  } catch (err) {
    return { warning: `banner({ url }) of '${file}' failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}
