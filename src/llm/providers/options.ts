import { z } from 'zod';
import { SgError } from '../../errors/index.js';

/** Client settings of a provider (llm.md section 3.3); custom providers may read keys of their own. */
export type ProviderOptions = {
  /** in code only: never read from or written to files */
  apiKey?: string;
  /** name of the environment variable holding the key */
  apiKeyEnv?: string;
  baseURL?: string;
  organization?: string;
  project?: string;
  endpointUrl?: string;
  tokenizerPath?: string;
  timeoutMs?: number;
  streamIdleTimeoutMs?: number;
  maxRetries?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  includeStreamUsage?: boolean;
  headers?: Record<string, string>;
  tokenDelayMs?: number;
  [option: string]: unknown;
};

const ms = z.number().finite().nonnegative();
const schema = z.looseObject({
  apiKey: z.string().optional(),
  apiKeyEnv: z.string().min(1).optional(),
  baseURL: z.string().min(1).optional(),
  organization: z.string().optional(),
  project: z.string().optional(),
  endpointUrl: z.string().min(1).optional(),
  tokenizerPath: z.string().min(1).optional(),
  timeoutMs: ms.optional(),
  streamIdleTimeoutMs: ms.optional(),
  maxRetries: z.number().int().nonnegative().optional(),
  retryBaseDelayMs: ms.optional(),
  retryMaxDelayMs: ms.optional(),
  includeStreamUsage: z.boolean().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  tokenDelayMs: ms.optional(),
});

/** The defaults of llm.md section 3.3 that every provider shares. */
export const PROVIDER_DEFAULTS = {
  timeoutMs: 60_000,
  streamIdleTimeoutMs: 30_000,
  maxRetries: 2,
  retryBaseDelayMs: 500,
  retryMaxDelayMs: 8000,
  includeStreamUsage: true,
  headers: {},
  tokenDelayMs: 0,
} as const satisfies ProviderOptions;

/** Options after resolution: the shared defaults always present. */
export type ResolvedProviderOptions = ProviderOptions & {
  [K in keyof typeof PROVIDER_DEFAULTS]-?: NonNullable<ProviderOptions[K]>;
};

/** Check `providerOptions` of an artifact; `owner` names the artifact in the message. */
export function checkProviderOptions(raw: unknown, owner: string): ProviderOptions {
  if (raw === undefined) return {};
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = ['providerOptions', ...issue.path.map(String)].join('.');
    throw new SgError('SG_ERR_INVALID_OPTION', `${owner}: ${field}: ${issue.message}`, { details: { field } });
  }
  return r.data as ProviderOptions;
}

/** prompt artifact > model artifact > environment > default, key by key (llm.md section 3.3). */
export function resolveProviderOptions(layers: {
  prompt?: ProviderOptions;
  model?: ProviderOptions;
  env?: ProviderOptions;
}): ResolvedProviderOptions {
  const out: ProviderOptions = { ...PROVIDER_DEFAULTS };
  for (const layer of [layers.env, layers.model, layers.prompt]) {
    if (layer === undefined) continue;
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) out[k] = v;
  }
  return out as ResolvedProviderOptions;
}

/** The value of an environment variable, undefined when unset or empty. */
export function envValue(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** A numeric environment variable (e.g. OPENAI_TIMEOUT in seconds), scaled; undefined when unset or not a number. */
export function envNumber(name: string, scale = 1): number | undefined {
  const v = envValue(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n * scale : undefined;
}
