import './builtins.js';

export type { BatchInfo, BatchKey, Event, StreamInfo } from './engine/event.js';
export type { CollectorReducer, StreamDone, Usage } from './engine/stream-types.js';
export { ERROR_CODES, type ErrorCode } from './errors/codes.js';
export { SgError, type SgErrorOptions } from './errors/sg-error.js';
export { createGraph, Graph, type GraphOptions } from './graph/graph.js';
export { Step } from './graph/step.js';
export type { PathOption, StepContext, StepOptions } from './graph/types.js';
export type { ChatMessage, ContentPart, FinishReason } from './llm/chat.js';
export { LLModel, type LLMStreamSummary } from './llm/llmodel.js';
export { LLMPromptArtifact, type LLMPromptArtifactInit, type PromptLegendEntry } from './llm/prompt-artifact.js';
export type { ProviderOptions } from './llm/providers/options.js';
export {
  type InvokeOptions,
  type LLMResult,
  ModelProvider,
  type ProviderInit,
  type StreamPart,
  type TraceContext,
} from './llm/providers/provider.js';
export { type RegisterProviderOptions, registerProvider } from './llm/providers/registry.js';
export { ModelArtifact, type ModelArtifactInit } from './models/artifacts/model-artifact.js';
export type { AddModelOptions, AddProxyOptions, CreationStrategy } from './models/endpoint.js';
export { Model } from './models/model.js';
export { ModelRunnerStep, type ModelRunnerStepOptions } from './models/model-runner-step.js';
export type { PoolResourceOptions } from './models/pool-resources.js';
export { ModelSelector } from './models/selector.js';
export type { AddSharedModelOptions } from './models/shared-models.js';
export type { ExecutionMechanism, ModelCallContext, ModelEntry, ModelOptions } from './models/types.js';
export type { CallRecord, EndpointRecord, EndpointStats } from './monitoring/types.js';
export { type RegisterOptions, registerClass } from './registry/registry.js';
export type { EndpointHealth, SvgOptions } from './render/svg.js';
export type { TestOptions } from './server/event-init.js';
export {
  type CorsOptions,
  type HttpServer,
  type LoadProgress,
  type OpenAIFrontOptions,
  type ServeOptions,
  serve,
} from './server/http/serve.js';
export { createMockServer, MockServer, type MockServerOptions } from './server/mock-server.js';
export type { TestStream } from './server/test-stream.js';
export { Batch, type BatchOptions } from './steps/batch.js';
export { Choice, type ChoiceOptions } from './steps/choice.js';
export { Collector, type CollectorOptions } from './steps/collector.js';
export { Filter, type FilterOptions } from './steps/filter.js';
export { FlatMap, type FlatMapOptions } from './steps/flat-map.js';
export { MapStep } from './steps/map-step.js';
