import { z } from 'zod';
import { trackingSchema } from '../graph/settings.js';

/** A path option in a spec file: 'a.b' or ['a.b', 'c'] (graph.md section 5). */
const path = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const stringList = z.union([z.string().min(1), z.array(z.string().min(1))]);

const RESERVED_PARAMS = ['name', 'handler', 'inputPath', 'resultPath', 'fullEvent'];

const poolSchema = z
  .object({
    maxThreads: z.number().int().min(1).optional(),
    maxProcesses: z.number().int().min(1).optional(),
    poolFactor: z.number().int().min(1).optional(),
    maxQueue: z.number().int().min(1).optional(),
  })
  .strict();

/** An artifact: its JSON form inline, or a path to a JSON/YAML file relative to the spec file. */
const artifactSchema = z.union([z.string().min(1), z.record(z.string(), z.unknown())]);
const labelsSchema = z.union([z.array(z.string().min(1)), z.record(z.string(), z.string())]);
const strategySchema = z.enum(['inplace', 'overwrite', 'archive']);

/** A model of a runner, or a shared model (addModel / addSharedModel fields, model-runner.md section 9). */
const modelFields = {
  modelClass: z.string().min(1),
  executionMechanism: z.enum(['naive', 'asyncio', 'thread_pool', 'process_pool', 'dedicated_process']),
  modelArtifact: artifactSchema.optional(),
  inputPath: path.optional(),
  resultPath: path.optional(),
  inputs: z.array(z.string()).optional(),
  outputs: z.array(z.string()).optional(),
  modelParameters: z.record(z.string(), z.unknown()).optional(),
  timeoutMs: z.number().min(0).optional(),
  maxConcurrentCalls: z.number().int().min(1).optional(),
};

export const sharedModelSpecSchema = z.object(modelFields).strict();

const endpointModelSchema = z
  .object({ ...modelFields, labels: labelsSchema.optional(), modelEndpointCreationStrategy: strategySchema.optional() })
  .strict();
const endpointProxySchema = z
  .object({
    executionMechanism: z.literal('shared_executor'),
    sharedModelName: z.string().min(1).optional(),
    modelArtifact: artifactSchema.optional(),
    labels: labelsSchema.optional(),
    modelEndpointCreationStrategy: strategySchema.optional(),
  })
  .strict();

/** An entry of a runner's `models` map: a proxy when its mechanism is shared_executor. */
export const endpointSpecSchema = z.union([endpointProxySchema, endpointModelSchema]);

/** One step of a spec file (graph.md section 11). */
export const stepSpecSchema = z
  .object({
    kind: z.enum(['task', 'model_runner']).optional(),
    class: z.string().min(1).optional(),
    handler: z.string().min(1).optional(),
    params: z
      .record(z.string(), z.unknown())
      .refine((p) => !RESERVED_PARAMS.some((k) => Object.hasOwn(p, k)), {
        message: `params may not contain ${RESERVED_PARAMS.join(', ')}: give them as step fields`,
      })
      .optional(),
    after: stringList.optional(),
    inputPath: path.optional(),
    resultPath: path.optional(),
    fullEvent: z.boolean().optional(),
    responder: z.boolean().optional(),
    onError: z.string().min(1).optional(),
    models: z.record(z.string(), z.unknown()).optional(),
    modelSelector: z.string().min(1).optional(),
    modelSelectorParameters: z.record(z.string(), z.unknown()).optional(),
    raiseException: z.boolean().optional(),
    pool: poolSchema.optional(),
  })
  .strict();

/** The root of a spec file (graph.md section 11). */
export const graphSpecSchema = z
  .object({
    kind: z.literal('flow').optional(),
    name: z.string().min(1).optional(),
    engine: z.literal('async', { message: "engine must be 'async' (the sync engine is not supported)" }).optional(),
    streaming: z
      .union([
        z.boolean(),
        z.object({ enabled: z.boolean().optional(), maxBufferedChunks: z.number().int().min(1).optional() }).strict(),
      ])
      .optional(),
    onError: z.string().min(1).optional(),
    steps: z.record(z.string(), stepSpecSchema),
    tracking: z.union([z.literal(false), trackingSchema]).optional(),
    sharedModels: z.record(z.string(), z.unknown()).optional(),
    sharedPool: poolSchema.optional(),
  })
  .strict();

export type StepSpec = z.infer<typeof stepSpecSchema>;
export type GraphSpec = z.infer<typeof graphSpecSchema>;
