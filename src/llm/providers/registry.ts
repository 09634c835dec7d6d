import { describe, errorText, SgError } from '../../errors/index.js';
import type { ModelArtifact } from '../../models/artifacts/model-artifact.js';
import { importReference, moduleUrl, splitReference } from '../../registry/references.js';
import type { LLMPromptArtifact } from '../prompt-artifact.js';
import { type ProviderOptions, resolveProviderOptions } from './options.js';
import { isProviderClass, type ModelProvider, type ProviderInit } from './provider.js';

type ProviderClass = (new (
  init: ProviderInit,
) => ModelProvider) & {
  /** built-in providers: the options their environment variables give (llm.md section 3.3) */
  envOptions?(merged: ProviderOptions): ProviderOptions;
};

/** Built-in schemes, imported only when a model uses them (the openai SDK loads only for openai://). */
const BUILTIN: Record<string, () => Promise<ProviderClass>> = {
  openai: async () => (await import('./openai.js')).OpenAIProvider,
  huggingface: async () => (await import('./huggingface.js')).HuggingFaceProvider,
  hf: async () => (await import('./huggingface.js')).HuggingFaceProvider,
  transformers: async () => {
    throw new SgError(
      'SG_ERR_PROVIDER_UNAVAILABLE',
      'transformers:// local models are not supported yet; serve the model with text-generation-inference and use huggingface:// with endpointUrl, or an OpenAI-compatible server with openai://',
      { details: { scheme: 'transformers' } },
    );
  },
  embedded: async () => (await import('../embedded/embedded-provider.js')).EmbeddedProvider,
};

const SCHEME_RE = /^[a-z][a-z0-9+.-]*$/;
type Entry = { target: ProviderClass | string; module?: string; exportName?: string };
const custom = new Map<string, Entry>();

export type RegisterProviderOptions = { override?: boolean; module?: string; exportName?: string };

/** Use `ProviderClass` for models whose modelUrl is `<scheme>://…` (llm.md section 3.9). */
export function registerProvider(
  scheme: string,
  ProviderClass: (new (init: ProviderInit) => ModelProvider) | string,
  options: RegisterProviderOptions = {},
): void {
  const bad = (field: string, expected: string, got: unknown): never => {
    throw new SgError('SG_ERR_INVALID_OPTION', `registerProvider: ${field} must be ${expected}, got ${describe(got)}`, {
      details: { field },
    });
  };
  if (typeof scheme !== 'string' || !SCHEME_RE.test(scheme))
    bad('scheme', 'a string matching ^[a-z][a-z0-9+.-]*$', scheme);
  const isRef = typeof ProviderClass === 'string' && splitReference(ProviderClass) !== undefined;
  if (!isRef && !isProviderClass(ProviderClass)) {
    bad(
      'ProviderClass',
      "a class that extends ModelProvider and implements invoke or invokeAsync, or a 'module#Export' string",
      ProviderClass,
    );
  }
  if (options === null || typeof options !== 'object') bad('options', 'an object', options);
  for (const k of Object.keys(options))
    if (!['override', 'module', 'exportName'].includes(k)) bad(k, 'one of override, module, exportName', k);
  if (options.module !== undefined && (typeof options.module !== 'string' || options.module === ''))
    bad('module', 'a module URL', options.module);
  if (options.exportName !== undefined && (typeof options.exportName !== 'string' || options.exportName === '')) {
    bad('exportName', 'a non-empty string', options.exportName);
  }
  if (Object.hasOwn(BUILTIN, scheme)) {
    throw new SgError(
      'SG_ERR_DUPLICATE_PROVIDER',
      `registerProvider: '${scheme}' is a built-in scheme and cannot be replaced`,
      {
        details: { scheme },
      },
    );
  }
  const existing = custom.get(scheme);
  if (existing !== undefined && existing.target !== ProviderClass && !options.override) {
    throw new SgError(
      'SG_ERR_DUPLICATE_PROVIDER',
      `registerProvider: '${scheme}' is already registered with another class; pass { override: true } to replace it`,
      { details: { scheme } },
    );
  }
  if (existing?.target === ProviderClass && !options.override) return;
  custom.set(scheme, {
    target: ProviderClass as Entry['target'],
    module: options.module,
    exportName: options.exportName,
  });
}

/** A provider's start-up error with the endpoint named, in the message and the field (llm.md section 3.8). */
function namingEndpoint(err: SgError, endpoint: string): SgError {
  const prefix = `endpoint '${endpoint}': `;
  const message = err.message.startsWith(prefix) ? err.message : prefix + err.message;
  return new SgError(err.code, message, {
    step: err.step,
    endpoint: err.endpoint ?? endpoint,
    details: err.details,
    cause: err.cause,
  });
}

/** `<scheme>://<model id>` split (llm.md section 3.2); everything after '://' is the id, verbatim. */
export function parseModelUrl(url: unknown, endpoint?: string): { scheme: string; model: string } {
  const who = endpoint === undefined ? '' : `endpoint '${endpoint}': `;
  const m = typeof url === 'string' ? /^([a-z][a-z0-9+.-]*):\/\/(.*)$/s.exec(url) : null;
  if (m === null) {
    throw new SgError(
      'SG_ERR_MODEL_URL_INVALID',
      `${who}modelUrl must be '<scheme>://<model id>', got ${describe(url)}`,
      {
        endpoint,
        details: { modelUrl: url },
      },
    );
  }
  const [, scheme, model] = m;
  if (notInWorker.has(scheme)) {
    throw new SgError(
      'SG_ERR_NOT_WORKER_LOADABLE',
      `${who}provider '${scheme}' was registered as an in-memory class: a worker cannot load it; register it with { module: import.meta.url } or as a 'module#Export' string`,
      { endpoint, details: { scheme } },
    );
  }
  if (!Object.hasOwn(BUILTIN, scheme) && !custom.has(scheme)) {
    const known = [...Object.keys(BUILTIN), ...custom.keys()].join(', ');
    throw new SgError(
      'SG_ERR_MODEL_URL_INVALID',
      `${who}modelUrl '${url}': unknown scheme '${scheme}' (known: ${known})`,
      {
        endpoint,
        details: { modelUrl: url, scheme },
      },
    );
  }
  if (model === '' && scheme !== 'embedded') {
    throw new SgError('SG_ERR_MODEL_URL_INVALID', `${who}modelUrl '${url}': the model id after '://' is empty`, {
      endpoint,
      details: { modelUrl: url },
    });
  }
  return { scheme, model: model === '' ? 'demo' : model };
}

/**
 * @internal What a worker needs to know of the registered providers: scheme → absolute 'url#Export', or
 * null for a class registered in memory without `module` (a worker cannot import it).
 */
export function workerProviderRefs(baseDir: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [scheme, e] of custom) {
    const ref = typeof e.target === 'string' ? e.target : e.module && `${e.module}#${e.exportName ?? e.target.name}`;
    const parts = ref ? splitReference(ref) : undefined;
    out[scheme] = parts ? `${moduleUrl(parts.module, baseDir)}#${parts.exportName}` : null;
  }
  return out;
}

/** schemes registered on the main thread whose class a worker cannot import */
const notInWorker = new Set<string>();

/** @internal In a worker: register the main thread's providers by reference. */
export function registerWorkerProviders(refs: Record<string, string | null>): void {
  for (const [scheme, ref] of Object.entries(refs)) {
    if (ref === null) notInWorker.add(scheme);
    else if (!custom.has(scheme)) custom.set(scheme, { target: ref });
  }
}

async function providerClass(scheme: string, baseDir: string): Promise<ProviderClass> {
  const builtin = BUILTIN[scheme];
  if (builtin !== undefined) return builtin();
  const e = custom.get(scheme)!;
  if (typeof e.target !== 'string') return e.target;
  const cls = await importReference(e.target, baseDir, undefined, `provider '${scheme}'`);
  if (!isProviderClass(cls)) {
    throw new SgError(
      'SG_ERR_INVALID_CLASS',
      `provider '${scheme}': '${e.target}' is ${describe(cls)}, expected a class that extends ModelProvider`,
      {
        details: { reference: e.target },
      },
    );
  }
  return cls as ProviderClass;
}

/**
 * Build and load the provider of a model (llm.md section 2.1): the modelUrl of the model artifact names it;
 * options resolve prompt > model > environment > default. Errors name the endpoint.
 */
export async function createProvider(a: {
  modelArtifact: ModelArtifact;
  prompt?: LLMPromptArtifact;
  endpoint: string;
  baseDir?: string;
}): Promise<ModelProvider> {
  const url = a.modelArtifact.modelUrl;
  if (url === undefined) {
    throw new SgError(
      'SG_ERR_LLM_NO_PROVIDER',
      `endpoint '${a.endpoint}': its model artifact '${a.modelArtifact.key}' has no modelUrl naming a provider`,
      {
        endpoint: a.endpoint,
      },
    );
  }
  const { scheme, model } = parseModelUrl(url, a.endpoint);
  const baseDir = a.baseDir ?? process.cwd();
  let cls: ProviderClass;
  try {
    cls = await providerClass(scheme, baseDir);
  } catch (err) {
    throw err instanceof SgError ? namingEndpoint(err, a.endpoint) : err;
  }
  const merged = { ...a.modelArtifact.providerOptions, ...a.prompt?.providerOptions } as ProviderOptions;
  const options = resolveProviderOptions({
    env: cls.envOptions?.(merged),
    model: a.modelArtifact.providerOptions as ProviderOptions,
    prompt: a.prompt?.providerOptions as ProviderOptions | undefined,
  });
  const init: ProviderInit = { scheme, model, options, defaultConfig: { ...a.modelArtifact.defaultConfig } };
  let provider: ModelProvider;
  try {
    provider = new cls(init);
    await provider.load();
  } catch (err) {
    // a custom provider's SgError fails start-up as it is; a built-in one's names the endpoint (llm.md 3.3, 3.9)
    if (err instanceof SgError) throw Object.hasOwn(BUILTIN, scheme) ? namingEndpoint(err, a.endpoint) : err;
    throw new SgError(
      'SG_ERR_MODEL_LOAD',
      `endpoint '${a.endpoint}': provider ${url} failed to load: ${errorText(err)}`,
      {
        endpoint: a.endpoint,
        cause: err,
      },
    );
  }
  return provider;
}
