import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SgError } from '../errors/index.js';

/** A `module#Export` reference split in two; undefined for a plain name. */
export function splitReference(ref: string): { module: string; exportName: string } | undefined {
  const at = ref.lastIndexOf('#');
  if (at < 0) return undefined;
  return { module: ref.slice(0, at), exportName: ref.slice(at + 1) };
}

/** The URL to import a module part with: relative to `baseDir`, absolute, `file:`, or a package. */
export function moduleUrl(specifier: string, baseDir: string): string {
  if (specifier.startsWith('./') || specifier.startsWith('../')) return pathToFileURL(resolve(baseDir, specifier)).href;
  if (specifier.startsWith('file:')) return specifier;
  if (isAbsolute(specifier)) return pathToFileURL(specifier).href;
  try {
    return pathToFileURL(createRequire(join(baseDir, 'noop.js')).resolve(specifier)).href;
  } catch {
    // ESM-only packages have no `require` condition: let import() resolve the bare name
    return specifier;
  }
}

/** Import `module#Export` and return the export (graph.md section 12). */
export async function importReference(
  ref: string,
  baseDir: string,
  step: string | undefined,
  what: string,
): Promise<unknown> {
  const parts = splitReference(ref);
  if (parts === undefined || parts.module === '' || parts.exportName === '') {
    throw new SgError(
      'SG_ERR_UNKNOWN_CLASS',
      `${where(step, what)}reference '${ref}' must be 'module#Export' or a registered name`,
      {
        step,
        details: { reference: ref },
      },
    );
  }
  const url = moduleUrl(parts.module, baseDir);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new SgError(
      'SG_ERR_MODULE_LOAD',
      `${where(step, what)}cannot import module '${parts.module}' (from ${baseDir}): ${reason}`,
      {
        step,
        details: { module: parts.module, reference: ref },
        cause: err,
      },
    );
  }
  if (!Object.hasOwn(mod, parts.exportName)) {
    throw new SgError(
      'SG_ERR_UNKNOWN_CLASS',
      `${where(step, what)}module '${parts.module}' has no export '${parts.exportName}'`,
      {
        step,
        details: { module: parts.module, reference: ref },
      },
    );
  }
  return mod[parts.exportName];
}

function where(step: string | undefined, what: string): string {
  return step === undefined ? `${what}: ` : `step '${step}': ${what} `;
}
