import { SgError } from '../errors/index.js';
import { moduleUrl, splitReference } from '../registry/references.js';
import { lookupRegistered, registeredNameOf, workerReference } from '../registry/registry.js';
import type { ModelDef } from './endpoint.js';

/** Built-in model names a worker imports from servegraph itself. */
const BUILTIN_MODELS = new Set(['Model', 'LLModel']);

/** servegraph's compiled entry, which workers import built-in models from; from the TypeScript sources (tests), dist's. */
function servegraphIndex(): string {
  const url = new URL('../index.js', import.meta.url).href;
  return import.meta.url.endsWith('.ts') ? url.replace(/\/src\/index\.js$/, '/dist/index.js') : url;
}

/** The absolute `file:…#Export` a worker imports a model class from (model-runner.md section 8). */
export function workerClassRef(def: ModelDef, baseDir: string, step: string | undefined): string {
  const ref = typeof def.modelClass === 'string' ? def.modelClass : registeredNameOf(def.modelClass);
  if (ref !== undefined) {
    if (BUILTIN_MODELS.has(ref)) return `${servegraphIndex()}#${ref}`;
    const target = splitReference(ref) !== undefined ? ref : workerReference(ref);
    const parts = target === undefined ? undefined : splitReference(target);
    if (parts !== undefined) return `${moduleUrl(parts.module, baseDir)}#${parts.exportName}`;
    if (
      typeof def.modelClass === 'string' &&
      splitReference(ref) === undefined &&
      lookupRegistered(ref) === undefined
    ) {
      throw new SgError(
        'SG_ERR_UNKNOWN_CLASS',
        `endpoint '${def.name}': modelClass '${ref}' is not a registered name; register it with registerClass() or use 'module#Export'`,
        {
          step,
          endpoint: def.name,
          details: { reference: ref },
        },
      );
    }
  }
  throw new SgError(
    'SG_ERR_NOT_WORKER_LOADABLE',
    `endpoint '${def.name}': '${def.classLabel}' cannot be loaded in a worker (${def.mechanism})`,
    {
      step,
      endpoint: def.name,
      details: { mechanism: def.mechanism },
    },
  );
}
