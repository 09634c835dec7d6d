import type { Usage } from '../engine/stream-types.js';
import type { PathOption } from '../graph/types.js';
import type { LLMPromptArtifact } from '../llm/prompt-artifact.js';
import type { ModelArtifact } from './artifacts/model-artifact.js';

/** Artifacts a model endpoint can be given. */
export type Artifact = ModelArtifact | LLMPromptArtifact;

export type ExecutionMechanism =
  | 'naive'
  | 'asyncio'
  | 'thread_pool'
  | 'process_pool'
  | 'dedicated_process'
  | 'shared_executor';
export const MECHANISMS: readonly ExecutionMechanism[] = [
  'naive',
  'asyncio',
  'thread_pool',
  'process_pool',
  'dedicated_process',
  'shared_executor',
];
export const WORKER_MECHANISMS: readonly ExecutionMechanism[] = ['thread_pool', 'process_pool', 'dedicated_process'];

/** Constructor options of a Model (model-runner.md section 1). */
export type ModelOptions = {
  name: string;
  modelParameters?: Record<string, unknown>;
  modelArtifact?: Artifact;
  inputPath?: PathOption;
  resultPath?: PathOption;
};

/** The `ctx` of predict / predictAsync / predictStream, the same under every mechanism (model-runner.md section 1). */
export type ModelCallContext = {
  readonly endpointName: string;
  readonly step: string;
  readonly eventId: string;
  readonly path: string;
  readonly artifact: Artifact | undefined;
  readonly batch: { readonly size: number } | undefined;
  readonly signal: AbortSignal;
  readonly trace: { traceparent: string; tracestate?: string } | undefined;
  recordUsage(usage: Usage): void;
};

/** What a selector sees of each endpoint (model-runner.md section 4). */
export type ModelEntry = {
  readonly name: string;
  readonly endpointName: string;
  readonly executionMechanism: ExecutionMechanism;
  readonly modelClass: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly modelArtifact: Artifact | undefined;
};

/** A model's logger: the four levels (pino underneath). */
export type ModelLogger = {
  debug(msg: string, ...args: unknown[]): void;
  info(msg: string, ...args: unknown[]): void;
  warn(msg: string, ...args: unknown[]): void;
  error(msg: string, ...args: unknown[]): void;
};
