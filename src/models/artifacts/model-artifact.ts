import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { SgError } from '../../errors/index.js';
import { checkProviderOptions } from '../../llm/providers/options.js';
import { readArtifactFile, writeArtifactFile } from './artifact-file.js';

const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const INVALID = 'SG_ERR_MODEL_ARTIFACT_INVALID';

const fieldsSchema = z
  .object({
    kind: z.literal('model').optional(),
    formatVersion: z.literal(1, { message: 'formatVersion must be 1 (the versions this release reads: 1)' }).optional(),
    key: z.string().regex(KEY_RE, 'key must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
    description: z.string().optional(),
    modelFile: z.string().min(1).optional(),
    modelUrl: z.string().min(1).optional(),
    defaultConfig: z.record(z.string(), z.unknown()).optional(),
    providerOptions: z.record(z.string(), z.unknown()).optional(),
    inputs: z.array(z.string()).optional(),
    outputs: z.array(z.string()).optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    labels: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export type ModelArtifactInit = Omit<z.infer<typeof fieldsSchema>, 'kind' | 'formatVersion'>;

/** Marks ModelArtifacts of every copy of servegraph, so that `instanceof` holds across copies (dual packages). */
const BRAND = Symbol.for('servegraph.ModelArtifact');

/** Describes a model: where its file or service is, and its schema (model-runner.md section 1). */
export class ModelArtifact {
  /** `instanceof ModelArtifact` holds for artifacts made by any copy of servegraph loaded in the process. */
  static [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: the receiver is the point here
    if (this !== ModelArtifact) return Function.prototype[Symbol.hasInstance].call(this, value);
    return value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  readonly key: string;
  readonly description: string;
  readonly modelFile: string | undefined;
  readonly modelUrl: string | undefined;
  readonly defaultConfig: Readonly<Record<string, unknown>>;
  readonly providerOptions: Readonly<Record<string, unknown>>;
  readonly inputs: readonly string[] | undefined;
  readonly outputs: readonly string[] | undefined;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly labels: Readonly<Record<string, string>>;

  /** `baseDir`: what a relative `modelFile` resolves against (the artifact file's folder, the spec file's, or the graph's). */
  constructor(init: ModelArtifactInit, options: { baseDir?: string } = {}) {
    const r = fieldsSchema.safeParse(init);
    if (!r.success) {
      const issue = r.error.issues[0];
      const key = typeof (init as { key?: unknown })?.key === 'string' ? (init as { key: string }).key : '(no key)';
      const field = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '');
      throw new SgError(INVALID, `model artifact '${key}': ${field ? `${field}: ` : ''}${issue.message}`, {
        details: { key, field },
      });
    }
    const f = r.data;
    this.key = f.key;
    this.description = f.description ?? '';
    this.modelFile =
      f.modelFile === undefined
        ? undefined
        : isAbsolute(f.modelFile)
          ? f.modelFile
          : resolve(options.baseDir ?? process.cwd(), f.modelFile);
    this.modelUrl = f.modelUrl;
    this.defaultConfig = Object.freeze({ ...f.defaultConfig });
    this.providerOptions = Object.freeze(checkProviderOptions(f.providerOptions, `model artifact '${f.key}'`));
    this.inputs = f.inputs && Object.freeze([...f.inputs]);
    this.outputs = f.outputs && Object.freeze([...f.outputs]);
    this.parameters = Object.freeze({ ...f.parameters });
    this.labels = Object.freeze({ ...f.labels });
    Object.freeze(this);
  }

  /** The JSON form: the fields plus `kind: 'model'` and `formatVersion: 1`. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { formatVersion: 1, kind: 'model', key: this.key };
    if (this.description) out.description = this.description;
    if (this.modelFile !== undefined) out.modelFile = this.modelFile;
    if (this.modelUrl !== undefined) out.modelUrl = this.modelUrl;
    if (Object.keys(this.defaultConfig).length) out.defaultConfig = { ...this.defaultConfig };
    // a key given in code never reaches a file (llm.md section 1)
    const { apiKey: _, ...opts } = this.providerOptions;
    if (Object.keys(opts).length) out.providerOptions = opts;
    if (this.inputs) out.inputs = [...this.inputs];
    if (this.outputs) out.outputs = [...this.outputs];
    if (Object.keys(this.parameters).length) out.parameters = { ...this.parameters };
    if (Object.keys(this.labels).length) out.labels = { ...this.labels };
    return out;
  }

  /** @internal The form sent to a worker thread or process: the JSON form with an in-code apiKey kept. */
  _wireJSON(): Record<string, unknown> {
    const out = this.toJSON();
    if (this.providerOptions.apiKey !== undefined) out.providerOptions = { ...this.providerOptions };
    return out;
  }

  /** Build from the JSON form (`kind` and `formatVersion` accepted); a file's form may not hold an apiKey. */
  static fromJSON(json: unknown, options: { baseDir?: string; wire?: boolean } = {}): ModelArtifact {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new SgError(INVALID, 'a model artifact must be an object', { details: { key: '(no key)', field: '' } });
    }
    const { kind, formatVersion, ...rest } = json as Record<string, unknown>;
    const key = typeof rest.key === 'string' ? rest.key : '(no key)';
    if (kind !== undefined && kind !== 'model') {
      throw new SgError(INVALID, `model artifact '${key}': kind: expected 'model', got ${JSON.stringify(kind)}`, {
        details: { key, field: 'kind' },
      });
    }
    if (formatVersion !== undefined && formatVersion !== 1) {
      throw new SgError(
        INVALID,
        `model artifact '${key}': formatVersion ${String(formatVersion)} is not supported (this release reads: 1)`,
        {
          details: { key, field: 'formatVersion' },
        },
      );
    }
    const po = rest.providerOptions;
    if (!options.wire && po !== null && typeof po === 'object' && 'apiKey' in po) {
      throw new SgError(
        INVALID,
        `model artifact '${key}': providerOptions.apiKey: no apiKey in a file: name the environment variable with apiKeyEnv`,
        { details: { key, field: 'providerOptions.apiKey' } },
      );
    }
    return new ModelArtifact(rest as ModelArtifactInit, { baseDir: options.baseDir });
  }

  async save(path: string): Promise<void> {
    await writeArtifactFile(path, this.toJSON(), INVALID);
  }

  static async load(path: string): Promise<ModelArtifact> {
    const a = ModelArtifact.fromJSON(await readArtifactFile(path, INVALID), { baseDir: dirname(resolve(path)) });
    noteArtifactFile(a, path);
    return a;
  }
}

/** Model artifacts made by the modelUrl shorthand of a prompt artifact: shared models then match them by URL. */
const shorthands = new WeakSet<object>();

/** @internal Mark a model artifact as made from the modelUrl shorthand. */
export function markShorthand(a: ModelArtifact): ModelArtifact {
  shorthands.add(a);
  return a;
}

/** @internal Whether a model artifact was made from the modelUrl shorthand. */
export function isShorthand(a: object): boolean {
  return shorthands.has(a);
}

/** The file each artifact was read from, as it was named (monitoring.md section 1: an endpoint's `artifact.path`). */
const files = new WeakMap<object, string>();

/** @internal Remember that `artifact` was read from `path`. */
export function noteArtifactFile(artifact: object, path: string): void {
  files.set(artifact, path);
}

/** @internal The file `artifact` was read from, or null. */
export function artifactFile(artifact: object): string | null {
  return files.get(artifact) ?? null;
}

Object.defineProperty(ModelArtifact.prototype, BRAND, { value: true });
