import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { describe, SgError } from '../errors/index.js';
import { readArtifactFile, writeArtifactFile } from '../models/artifacts/artifact-file.js';
import { ModelArtifact, markShorthand, noteArtifactFile } from '../models/artifacts/model-artifact.js';
import type { ChatMessage } from './chat.js';
import { normaliseTemplate } from './messages.js';
import { checkProviderOptions, type ProviderOptions } from './providers/options.js';

const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const INVALID = 'SG_ERR_PROMPT_ARTIFACT_INVALID';
const FIELDS = new Set([
  'key',
  'description',
  'modelArtifact',
  'modelUrl',
  'promptTemplate',
  'promptFile',
  'promptLegend',
  'invocationConfig',
  'providerOptions',
]);
const BRAND = Symbol.for('servegraph.LLMPromptArtifact');
/** path segments graph.md's path rules refuse */
const UNSAFE_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/** Where a placeholder's value comes from: a dotted path in the input (default: the placeholder's name). */
export type PromptLegendEntry = { field?: string; description?: string };

/** Constructor fields of an LLMPromptArtifact (llm.md section 1). */
export type LLMPromptArtifactInit = {
  key: string;
  description?: string;
  /** the model that answers; exactly one of modelArtifact / modelUrl */
  modelArtifact?: ModelArtifact;
  modelUrl?: string;
  /** messages with {placeholders}; a string means one user message */
  promptTemplate?: ChatMessage[] | string;
  /** a JSON/YAML file holding the template, relative to the artifact file (or the graph file when inline) */
  promptFile?: string;
  promptLegend?: Record<string, PromptLegendEntry>;
  invocationConfig?: Record<string, unknown>;
  providerOptions?: ProviderOptions;
};

/** A prompt template, the model that answers it, and its generation settings (llm.md section 1). */
export class LLMPromptArtifact {
  static [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: the receiver is the point here
    if (this !== LLMPromptArtifact) return Function.prototype[Symbol.hasInstance].call(this, value);
    return value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  readonly kind = 'llm-prompt' as const;
  readonly key: string;
  readonly description: string;
  readonly modelArtifact: ModelArtifact;
  readonly promptFile: string | undefined;
  readonly promptLegend: Readonly<Record<string, Readonly<PromptLegendEntry>>>;
  readonly invocationConfig: Readonly<Record<string, unknown>>;
  readonly providerOptions: Readonly<ProviderOptions>;
  #template: ChatMessage[] | undefined;
  /** the absolute path of promptFile */
  readonly #promptPath: string | undefined;
  readonly #shorthand: boolean;

  /** `baseDir`: what a relative `promptFile` resolves against (the artifact file's folder, or the graph's). */
  constructor(init: LLMPromptArtifactInit, options: { baseDir?: string } = {}) {
    if (init === null || typeof init !== 'object' || Array.isArray(init)) {
      throw new SgError(INVALID, `a prompt artifact must be an object, got ${describe(init)}`, {
        details: { key: '(no key)', field: '' },
      });
    }
    const key = typeof init.key === 'string' ? init.key : '(no key)';
    const fail = (field: string, expected: string): never => {
      throw new SgError(INVALID, `prompt artifact '${key}': ${field}: expected ${expected}`, {
        details: { key, field, expected },
      });
    };
    for (const k of Object.keys(init)) if (!FIELDS.has(k)) fail(k, `one of the fields ${[...FIELDS].join(', ')}`);
    if (typeof init.key !== 'string' || !KEY_RE.test(init.key))
      fail('key', 'a string matching ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$');
    this.key = init.key;
    if (init.description !== undefined && typeof init.description !== 'string') fail('description', 'a string');
    this.description = init.description ?? '';
    if ((init.modelArtifact === undefined) === (init.modelUrl === undefined)) {
      fail('modelArtifact', 'exactly one of modelArtifact and modelUrl');
    }
    if (init.modelArtifact !== undefined) {
      if (!(init.modelArtifact instanceof ModelArtifact))
        fail('modelArtifact', `a ModelArtifact, got ${describe(init.modelArtifact)}`);
      this.modelArtifact = init.modelArtifact;
      this.#shorthand = false;
    } else {
      if (typeof init.modelUrl !== 'string' || init.modelUrl === '') fail('modelUrl', 'a non-empty string');
      // an unnamed model artifact holding only the URL; the prompt's key names it
      this.modelArtifact = markShorthand(new ModelArtifact({ key: this.key, modelUrl: init.modelUrl }));
      this.#shorthand = true;
    }
    if (init.promptTemplate !== undefined && init.promptFile !== undefined) {
      fail('promptFile', 'absent when promptTemplate is given (one template source)');
    }
    this.#template =
      init.promptTemplate === undefined ? undefined : normaliseTemplate(init.promptTemplate, 'promptTemplate', fail);
    if (init.promptFile !== undefined && (typeof init.promptFile !== 'string' || init.promptFile === '')) {
      fail('promptFile', 'a non-empty path');
    }
    this.promptFile = init.promptFile;
    this.#promptPath =
      init.promptFile === undefined
        ? undefined
        : isAbsolute(init.promptFile)
          ? init.promptFile
          : resolve(options.baseDir ?? process.cwd(), init.promptFile);
    this.promptLegend = Object.freeze(checkLegend(init.promptLegend, fail));
    this.invocationConfig = Object.freeze(checkConfig(init.invocationConfig, fail));
    this.providerOptions = Object.freeze(checkProviderOptions(init.providerOptions, `prompt artifact '${key}'`));
    Object.freeze(this);
  }

  /** the modelUrl of modelArtifact */
  get modelUrl(): string | undefined {
    return this.modelArtifact.modelUrl;
  }

  /** the template, normalised; with promptFile, once the file has been read (load(), or when the model loads) */
  get promptTemplate(): ChatMessage[] | undefined {
    return this.#template?.map((m) => ({ ...m }));
  }

  /** @internal The absolute path of promptFile (spec files write it, so a graph saved elsewhere still finds it). */
  get _promptFilePath(): string | undefined {
    return this.#promptPath;
  }

  /** @internal Made with the modelUrl shorthand (shared models then match by URL). */
  get _shorthand(): boolean {
    return this.#shorthand;
  }

  /** @internal Read promptFile (once); a missing file is SG_ERR_ARTIFACT_NOT_FOUND. */
  async _readPromptFile(): Promise<void> {
    if (this.#promptPath === undefined || this.#template !== undefined) return;
    let text: string;
    try {
      text = await readFile(this.#promptPath, 'utf8');
    } catch (err) {
      throw notFound(this.key, this.#promptPath, err);
    }
    this.#template = this.parsePromptFile(text);
  }

  /** @internal The same, synchronously (spec files are read at build time). */
  _readPromptFileSync(): void {
    if (this.#promptPath === undefined || this.#template !== undefined) return;
    let text: string;
    try {
      text = readFileSync(this.#promptPath, 'utf8');
    } catch (err) {
      throw notFound(this.key, this.#promptPath, err);
    }
    this.#template = this.parsePromptFile(text);
  }

  private parsePromptFile(text: string): ChatMessage[] {
    const fail = (field: string, expected: string): never => {
      throw new SgError(
        INVALID,
        `prompt artifact '${this.key}': promptFile '${this.promptFile}': ${field}: expected ${expected}`,
        {
          details: { key: this.key, field: `promptFile:${field}`, expected },
        },
      );
    };
    let raw: unknown;
    try {
      raw = extname(this.#promptPath!).toLowerCase() === '.json' ? JSON.parse(text) : parse(text);
    } catch (err) {
      fail('(file)', `valid JSON or YAML (${(err as Error).message.split('\n')[0]})`);
    }
    return normaliseTemplate(raw, 'promptTemplate', fail);
  }

  /** The JSON form (what save() writes): normalised fields plus `kind` and `formatVersion`; never an apiKey. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { formatVersion: 1, kind: 'llm-prompt', key: this.key };
    if (this.description) out.description = this.description;
    if (this.#shorthand) out.modelUrl = this.modelUrl;
    else out.modelArtifact = this.modelArtifact.toJSON();
    if (this.promptFile !== undefined) out.promptFile = this.promptFile;
    else if (this.#template !== undefined) out.promptTemplate = this.promptTemplate;
    if (Object.keys(this.promptLegend).length) out.promptLegend = structuredClone(this.promptLegend);
    if (Object.keys(this.invocationConfig).length) out.invocationConfig = structuredClone(this.invocationConfig);
    const { apiKey: _, ...opts } = this.providerOptions;
    if (Object.keys(opts).length) out.providerOptions = structuredClone(opts);
    return out;
  }

  /**
   * @internal The form sent to a worker thread or process: the JSON form with the template read and the
   * key kept (it stays inside this process tree, never on disk).
   */
  _wireJSON(): Record<string, unknown> {
    this._readPromptFileSync();
    const out = this.toJSON();
    delete out.promptFile;
    if (this.#template !== undefined) out.promptTemplate = this.promptTemplate;
    if (!this.#shorthand) out.modelArtifact = this.modelArtifact._wireJSON();
    if (this.providerOptions.apiKey !== undefined) out.providerOptions = { ...this.providerOptions };
    return out;
  }

  /** Build from the JSON form; `modelArtifact` may be an object or a path to a model artifact file. */
  static fromJSON(json: unknown, options: { baseDir?: string; wire?: boolean } = {}): LLMPromptArtifact {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new SgError(INVALID, `a prompt artifact must be an object, got ${describe(json)}`, {
        details: { key: '(no key)', field: '' },
      });
    }
    const { kind, formatVersion, ...rest } = json as Record<string, unknown>;
    const key = typeof rest.key === 'string' ? rest.key : '(no key)';
    const fail = (field: string, expected: string): never => {
      throw new SgError(INVALID, `prompt artifact '${key}': ${field}: expected ${expected}`, {
        details: { key, field, expected },
      });
    };
    if (kind !== undefined && kind !== 'llm-prompt') fail('kind', `'llm-prompt', got ${JSON.stringify(kind)}`);
    if (formatVersion !== undefined && formatVersion !== 1)
      fail('formatVersion', `a version this release reads (1), got ${describe(formatVersion)}`);
    const po = rest.providerOptions as Record<string, unknown> | undefined;
    if (!options.wire && po !== null && typeof po === 'object' && 'apiKey' in po) {
      fail('providerOptions.apiKey', 'no apiKey in a file: name the environment variable with apiKeyEnv');
    }
    const baseDir = options.baseDir;
    const ma = rest.modelArtifact;
    if (typeof ma === 'string') {
      const file = resolve(baseDir ?? process.cwd(), ma);
      rest.modelArtifact = ModelArtifact.fromJSON(readJsonOrYaml(file, key), { baseDir: dirname(file) });
    } else if (ma !== undefined && !(ma instanceof ModelArtifact)) {
      rest.modelArtifact = ModelArtifact.fromJSON(ma, { baseDir, wire: options.wire });
    }
    return new LLMPromptArtifact(rest as LLMPromptArtifactInit, { baseDir });
  }

  async save(path: string): Promise<void> {
    await writeArtifactFile(path, this.toJSON(), INVALID);
  }

  /** Read an artifact file (and its promptFile); the format comes from the extension. */
  static async load(path: string): Promise<LLMPromptArtifact> {
    const a = LLMPromptArtifact.fromJSON(await readArtifactFile(path, INVALID), { baseDir: dirname(resolve(path)) });
    await a._readPromptFile();
    noteArtifactFile(a, path);
    return a;
  }
}

Object.defineProperty(LLMPromptArtifact.prototype, BRAND, { value: true });

/** Whether `v` is an LLMPromptArtifact (of any copy of servegraph). */
export function isPromptArtifact(v: unknown): v is LLMPromptArtifact {
  return v instanceof LLMPromptArtifact;
}

function checkLegend(raw: unknown, fail: (f: string, e: string) => never): Record<string, PromptLegendEntry> {
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    fail('promptLegend', `an object, got ${describe(raw)}`);
  const out: Record<string, PromptLegendEntry> = {};
  for (const [name, entry] of Object.entries(raw as Record<string, unknown>)) {
    const at = `promptLegend.${name}`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      fail(at, `an object {field?, description?}, got ${describe(entry)}`);
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e))
      if (k !== 'field' && k !== 'description') fail(`${at}.${k}`, 'only field and description');
    if (
      e.field !== undefined &&
      (typeof e.field !== 'string' || e.field.split('.').some((seg) => seg === '' || UNSAFE_SEGMENTS.has(seg)))
    ) {
      fail(`${at}.field`, 'a dotted path without empty segments, __proto__, constructor or prototype');
    }
    if (e.description !== undefined && typeof e.description !== 'string') fail(`${at}.description`, 'a string');
    out[name] = Object.freeze({ ...(e as PromptLegendEntry) });
  }
  return out;
}

function checkConfig(raw: unknown, fail: (f: string, e: string) => never): Record<string, unknown> {
  if (raw === undefined) return {};
  if (
    raw === null ||
    typeof raw !== 'object' ||
    Array.isArray(raw) ||
    Object.getPrototypeOf(raw) !== Object.prototype
  ) {
    fail('invocationConfig', `a plain object, got ${describe(raw)}`);
  }
  const c = raw as Record<string, unknown>;
  if (c.stream !== undefined && typeof c.stream !== 'boolean') fail('invocationConfig.stream', 'a boolean');
  if (c.n !== undefined && c.n !== 1) fail('invocationConfig.n', '1 (one answer per call)');
  return { ...c };
}

function readJsonOrYaml(file: string, key: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw notFound(key, file, err);
  }
  try {
    return extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parse(text);
  } catch (err) {
    throw new SgError(
      INVALID,
      `prompt artifact '${key}': model artifact file '${file}' is not valid JSON/YAML: ${(err as Error).message.split('\n')[0]}`,
      {
        details: { key, field: 'modelArtifact' },
      },
    );
  }
}

function notFound(key: string, path: string, err: unknown): SgError {
  return new SgError(
    'SG_ERR_ARTIFACT_NOT_FOUND',
    `prompt artifact '${key}': file '${path}' cannot be read: ${(err as Error).message}`,
    {
      details: { key, path },
      cause: err,
    },
  );
}
