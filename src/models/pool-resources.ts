import { availableParallelism } from 'node:os';
import { describe, SgError } from '../errors/index.js';

/** Pool sizing (model-runner.md section 8): configurePoolResource / configureSharedPoolResource. */
export type PoolResourceOptions = {
  maxThreads?: number;
  maxProcesses?: number;
  poolFactor?: number;
  maxQueue?: number;
};
export type PoolResources = Required<PoolResourceOptions>;

const FIELDS = ['maxThreads', 'maxProcesses', 'poolFactor', 'maxQueue'] as const;

export function defaultPoolResources(): PoolResources {
  const cores = availableParallelism();
  return { maxThreads: cores, maxProcesses: cores, poolFactor: 1, maxQueue: 1024 };
}

/** Validate and fill in defaults: omitted fields return to their defaults. */
export function checkPoolResources(options: unknown, where: string): PoolResources {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new SgError('SG_ERR_INVALID_OPTION', `${where}: options must be an object, got ${describe(options)}`);
  }
  const out = defaultPoolResources();
  for (const [k, v] of Object.entries(options)) {
    if (!(FIELDS as readonly string[]).includes(k)) {
      throw new SgError('SG_ERR_INVALID_OPTION', `${where}: unknown option '${k}' (allowed: ${FIELDS.join(', ')})`, {
        details: { field: k },
      });
    }
    if (v === undefined) continue;
    if (!Number.isInteger(v) || (v as number) < 1) {
      throw new SgError('SG_ERR_INVALID_OPTION', `${where}: ${k} must be an integer >= 1, got ${describe(v)}`, {
        details: { field: k },
      });
    }
    out[k as keyof PoolResources] = v as number;
  }
  return out;
}

/** Workers of a pool: min(models × poolFactor, cap). */
export function poolSize(models: number, r: PoolResources, cap: number): number {
  return Math.min(models * r.poolFactor, cap);
}
