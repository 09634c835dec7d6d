import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { SgError } from '../errors/index.js';
import type { Graph } from '../graph/graph.js';
import { buildGraph } from './build.js';
import { invalidSpec } from './errors.js';
import { graphToSpec } from './write.js';

const FORMATS: Record<string, 'yaml' | 'json'> = { '.yaml': 'yaml', '.yml': 'yaml', '.json': 'json' };

function formatOf(path: string): 'yaml' | 'json' {
  const format = FORMATS[extname(path).toLowerCase()];
  if (format === undefined) {
    throw new SgError('SG_ERR_INVALID_SPEC', `spec file '${path}' must end in .yaml, .yml or .json`, {
      details: { path: '' },
    });
  }
  return format;
}

/** Parse spec text; malformed YAML/JSON is SG_ERR_INVALID_SPEC with the parser's position. */
export function parseSpecText(text: string, format: 'yaml' | 'json', source: string): unknown {
  try {
    if (format === 'json') return JSON.parse(text);
    // JSON is YAML too; uniqueKeys rejects a step declared twice instead of keeping the last one
    return parse(text, { uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    throw invalidSpec(
      '',
      `${source} is not valid ${format.toUpperCase()}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
      err,
    );
  }
}

/** Load a graph from a spec file; its name defaults to the file's base name, references resolve against its folder. */
export function graphFromFile(path: string): Graph {
  const format = formatOf(path);
  const abs = resolve(path);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new SgError(
      'SG_ERR_INVALID_SPEC',
      `cannot read spec file '${path}': ${err instanceof Error ? err.message : String(err)}`,
      {
        details: { path: '' },
        cause: err,
      },
    );
  }
  return buildGraph(parseSpecText(text, format, `spec file '${path}'`), {
    baseDir: dirname(abs),
    name: basename(abs, extname(abs)),
  });
}

/** Write a graph's spec form to a `.yaml`, `.yml` or `.json` file. */
export function saveGraphFile(graph: Graph, path: string): void {
  const spec = graphToSpec(graph);
  writeFileSync(path, formatOf(path) === 'json' ? `${JSON.stringify(spec, null, 2)}\n` : stringify(spec));
}
