import { describe, SgError } from '../errors/index.js';
import type { MissingPlaceholder } from './enrich.js';

/** The model parameters of LLModel (llm.md section 2), checked when the graph is built. */
export type LLModelParameters = {
  onMissingPlaceholder: MissingPlaceholder;
  maxBatchConcurrency: number;
  requestConfig: readonly string[];
};

const MODES = ['error', 'keep', 'empty'];

/** Read and check LLModel's parameters; other keys are left to subclasses. */
export function llmParameters(
  params: Readonly<Record<string, unknown>>,
  endpoint: string,
  step?: string,
): LLModelParameters {
  const bad = (field: string, expected: string, got: unknown): never => {
    throw new SgError(
      'SG_ERR_INVALID_OPTION',
      `${step ? `runner '${step}', ` : ''}endpoint '${endpoint}': modelParameters.${field} must be ${expected}, got ${describe(got)}`,
      { step, endpoint, details: { field: `modelParameters.${field}` } },
    );
  };
  const mode = params.onMissingPlaceholder ?? 'error';
  if (!MODES.includes(mode as string)) bad('onMissingPlaceholder', "'error', 'keep' or 'empty'", mode);
  const mbc = params.maxBatchConcurrency ?? 8;
  if (!Number.isInteger(mbc) || (mbc as number) < 1) bad('maxBatchConcurrency', 'an integer >= 1', mbc);
  const rc = params.requestConfig ?? [];
  if (!Array.isArray(rc) || !rc.every((k) => typeof k === 'string' && k !== ''))
    bad('requestConfig', 'a list of input keys', rc);
  if ((rc as string[]).includes('stream'))
    bad('requestConfig', "a list without 'stream' (streaming is fixed when the graph is built)", 'stream');
  return {
    onMissingPlaceholder: mode as MissingPlaceholder,
    maxBatchConcurrency: mbc as number,
    requestConfig: [...(rc as string[])],
  };
}
