import { describe, SgError } from '../errors/index.js';
import { importReference, splitReference } from './references.js';

export type RegisterOptions = {
  /** module URL (e.g. import.meta.url) that worker threads and processes import the class from */
  module?: string;
  /** the export's name in that module (default: the class's name) */
  exportName?: string;
  /** replace an earlier registration */
  override?: boolean;
};

type Entry = { target: unknown; module: string | undefined; exportName: string | undefined; builtin: boolean };

const entries = new Map<string, Entry>();
const NAME_RE = /^[^#\s./][^#\s]*$/u;
const PORTING_PREFIXES = ['storey.', 'mlrun.serving.'];

/** Give a class or function a name usable in spec files and references (graph.md section 12). */
export function registerClass(name: string, target: unknown, options: RegisterOptions = {}): void {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new SgError(
      'SG_ERR_INVALID_OPTION',
      `registerClass: name must be a non-empty string without '#' or whitespace that does not start with '.' or '/', got ${describe(name)}`,
      {
        details: { field: 'name' },
      },
    );
  }
  const isRef = typeof target === 'string' && splitReference(target) !== undefined;
  if (typeof target !== 'function' && !isRef) {
    throw new SgError(
      'SG_ERR_INVALID_OPTION',
      `registerClass('${name}'): target must be a class, a function or a 'module#Export' string, got ${describe(target)}`,
      {
        details: { field: 'target' },
      },
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new SgError(
      'SG_ERR_INVALID_OPTION',
      `registerClass('${name}'): options must be an object, got ${describe(options)}`,
    );
  }
  for (const k of Object.keys(options)) {
    if (!['module', 'exportName', 'override'].includes(k)) {
      throw new SgError(
        'SG_ERR_INVALID_OPTION',
        `registerClass('${name}'): unknown option '${k}' (allowed: module, exportName, override)`,
        {
          details: { field: k },
        },
      );
    }
  }
  if (options.module !== undefined && (typeof options.module !== 'string' || options.module === '')) {
    throw new SgError(
      'SG_ERR_INVALID_OPTION',
      `registerClass('${name}'): module must be a module URL string, got ${describe(options.module)}`,
      {
        details: { field: 'module' },
      },
    );
  }
  if (options.exportName !== undefined && (typeof options.exportName !== 'string' || options.exportName === '')) {
    throw new SgError(
      'SG_ERR_INVALID_OPTION',
      `registerClass('${name}'): exportName must be a non-empty string, got ${describe(options.exportName)}`,
      {
        details: { field: 'exportName' },
      },
    );
  }
  const existing = entries.get(name);
  if (existing !== undefined) {
    if (existing.builtin) {
      throw new SgError(
        'SG_ERR_DUPLICATE_CLASS',
        `registerClass: '${name}' is a built-in name and cannot be replaced`,
        { details: { name } },
      );
    }
    const same =
      existing.target === target && existing.module === options.module && existing.exportName === options.exportName;
    if (same) return;
    if (!options.override) {
      throw new SgError(
        'SG_ERR_DUPLICATE_CLASS',
        `registerClass: '${name}' is already registered with another target; pass { override: true } to replace it`,
        {
          details: { name },
        },
      );
    }
  }
  entries.set(name, { target, module: options.module, exportName: options.exportName, builtin: false });
}

/** @internal Register a built-in name (MapStep, Filter, ...): done once, cannot be replaced. */
export function registerBuiltin(name: string, target: unknown): void {
  entries.set(name, { target, module: undefined, exportName: undefined, builtin: true });
}

/** The target registered under `name` (after the porting prefixes storey. and mlrun.serving.), if any. */
export function lookupRegistered(name: string): unknown {
  const entry = entries.get(portedName(name));
  return entry?.target;
}

/** The registered name of an in-memory class or function, for writing spec files. */
export function registeredNameOf(target: unknown): string | undefined {
  for (const [name, entry] of entries) if (entry.target === target) return name;
  return undefined;
}

/** @internal Where a worker can import a registered name from, when it can (model-runner.md section 8). */
export function workerReference(name: string): string | undefined {
  const entry = entries.get(portedName(name));
  if (entry === undefined) return undefined;
  if (typeof entry.target === 'string') return entry.target;
  if (entry.module !== undefined) {
    const exportName = entry.exportName ?? (entry.target as { name?: string }).name;
    return exportName ? `${entry.module}#${exportName}` : undefined;
  }
  return undefined;
}

/**
 * Resolve a class reference (graph.md section 12): `module#Export`, a registered name, or a porting name
 * (`storey.X`, `mlrun.serving....X`) of a built-in.
 */
export async function resolveReference(ref: string, baseDir: string, step?: string, what = 'class'): Promise<unknown> {
  if (splitReference(ref) !== undefined) return importReference(ref, baseDir, step, what);
  const entry = entries.get(portedName(ref));
  if (entry === undefined) {
    throw new SgError(
      'SG_ERR_UNKNOWN_CLASS',
      `${step === undefined ? '' : `step '${step}': `}${what} '${ref}' is not a registered name; register it with registerClass() or use 'module#Export'`,
      {
        step,
        details: { reference: ref },
      },
    );
  }
  if (typeof entry.target === 'string') return importReference(entry.target, baseDir, step, what);
  return entry.target;
}

function portedName(name: string): string {
  for (const prefix of PORTING_PREFIXES) {
    if (name.startsWith(prefix)) {
      const last = name.slice(name.lastIndexOf('.') + 1);
      const entry = entries.get(last);
      if (entry?.builtin) return last;
    }
  }
  return name;
}
