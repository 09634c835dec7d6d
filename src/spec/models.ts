import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { parse } from 'yaml';
import { SgError } from '../errors/index.js';
import type { Graph } from '../graph/graph.js';
import { checkName } from '../graph/names.js';
import { LLMPromptArtifact } from '../llm/prompt-artifact.js';
import { ModelArtifact, noteArtifactFile } from '../models/artifacts/model-artifact.js';
import type { AddModelOptions, AddProxyOptions } from '../models/endpoint.js';
import { ModelRunnerStep } from '../models/model-runner-step.js';
import type { AddSharedModelOptions } from '../models/shared-models.js';
import type { Artifact } from '../models/types.js';
import { fromZodError, invalidSpec } from './errors.js';
import { endpointSpecSchema, type StepSpec, sharedModelSpecSchema } from './schema.js';

const TASK_ONLY = ['class', 'handler', 'params', 'inputPath', 'resultPath', 'fullEvent'] as const;

/** Build an artifact from its spec form: inline JSON, or a file relative to the spec file. */
function artifactOf(value: unknown, at: string, baseDir: string): Artifact {
  let json = value;
  let dir = baseDir;
  if (typeof value === 'string') {
    const file = resolve(baseDir, value);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SgError(
        'SG_ERR_ARTIFACT_NOT_FOUND',
        `invalid spec at '${at}': artifact file '${value}' cannot be read: ${(err as Error).message}`,
        {
          details: { path: at },
          cause: err,
        },
      );
    }
    try {
      json = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parse(text);
    } catch (err) {
      throw invalidSpec(
        at,
        `artifact file '${value}' is not valid JSON/YAML: ${(err as Error).message.split('\n')[0]}`,
        err,
      );
    }
    dir = dirname(file);
  }
  const kind = (json as { kind?: unknown } | null)?.kind;
  try {
    let artifact: Artifact;
    if (kind === 'llm-prompt') {
      const prompt = LLMPromptArtifact.fromJSON(json, { baseDir: dir });
      prompt._readPromptFileSync();
      artifact = prompt;
    } else artifact = ModelArtifact.fromJSON(json, { baseDir: dir });
    if (typeof value === 'string') noteArtifactFile(artifact, value);
    return artifact;
  } catch (err) {
    if (err instanceof SgError && err.code !== 'SG_ERR_ARTIFACT_NOT_FOUND') throw invalidSpec(at, err.message, err);
    throw err;
  }
}

/** Rethrow an option error of the model API as SG_ERR_INVALID_SPEC at `at`. */
function asSpecError(err: unknown, at: string): never {
  if (err instanceof SgError && (err.code === 'SG_ERR_INVALID_OPTION' || err.code === 'SG_ERR_INVALID_MECHANISM')) {
    const field = typeof err.details.field === 'string' ? `.${err.details.field}` : '';
    throw invalidSpec(`${at}${field}`, err.message, err);
  }
  throw err;
}

/** A `kind: model_runner` step (model-runner.md section 9). */
export function makeRunner(name: string, spec: StepSpec, baseDir: string): ModelRunnerStep {
  const at = `steps.${name}`;
  for (const f of TASK_ONLY)
    if (spec[f] !== undefined) throw invalidSpec(`${at}.${f}`, `'${f}' is not a field of a model_runner step`);
  let runner: ModelRunnerStep;
  try {
    runner = new ModelRunnerStep({
      name,
      modelSelector: spec.modelSelector,
      modelSelectorParameters: spec.modelSelectorParameters,
      raiseException: spec.raiseException,
    });
    if (spec.pool) runner.configurePoolResource(spec.pool);
  } catch (err) {
    asSpecError(err, at);
  }
  for (const [endpoint, raw] of Object.entries(spec.models ?? {})) {
    const where = `${at}.models.${endpoint}`;
    try {
      checkName(endpoint, `endpoint name '${endpoint}'`, name);
    } catch (err) {
      throw invalidSpec(where, (err as Error).message, err);
    }
    // a proxy when its mechanism is shared_executor, else a model: check against that form alone, so that
    // an error names the field (a union's error would name only the entry)
    const [proxySchema, modelSchema] = endpointSpecSchema.options;
    const isProxy = (raw as { executionMechanism?: unknown } | null)?.executionMechanism === 'shared_executor';
    const parsed = (isProxy ? proxySchema : modelSchema).safeParse(raw);
    if (!parsed.success) throw fromZodError(parsed.error, where.split('.'));
    const m = parsed.data;
    const artifact =
      m.modelArtifact === undefined ? undefined : artifactOf(m.modelArtifact, `${where}.modelArtifact`, baseDir);
    try {
      if (m.executionMechanism === 'shared_executor') {
        const { executionMechanism: _m, modelArtifact: _a, ...rest } = m;
        runner.addSharedModelProxy({ ...rest, endpointName: endpoint, modelArtifact: artifact } as AddProxyOptions);
      } else {
        const { modelArtifact: _a, ...rest } = m;
        runner.addModel({ ...rest, endpointName: endpoint, modelArtifact: artifact } as AddModelOptions);
      }
    } catch (err) {
      asSpecError(err, where);
    }
  }
  return runner;
}

/** The root `sharedModels` and `sharedPool` (graph.md section 11). */
export function addSharedModels(
  graph: Graph,
  shared: Record<string, unknown> | undefined,
  pool: Record<string, number> | undefined,
  baseDir: string,
): void {
  for (const [name, raw] of Object.entries(shared ?? {})) {
    const where = `sharedModels.${name}`;
    const parsed = sharedModelSpecSchema.safeParse(raw);
    if (!parsed.success) throw fromZodError(parsed.error, where.split('.'));
    const { modelArtifact, ...rest } = parsed.data;
    try {
      graph.addSharedModel({
        ...rest,
        name,
        modelArtifact:
          modelArtifact === undefined ? undefined : artifactOf(modelArtifact, `${where}.modelArtifact`, baseDir),
      } as AddSharedModelOptions);
    } catch (err) {
      asSpecError(err, where);
    }
  }
  if (pool !== undefined) {
    try {
      graph.configureSharedPoolResource(pool);
    } catch (err) {
      asSpecError(err, 'sharedPool');
    }
  }
}
