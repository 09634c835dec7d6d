import { z } from 'zod';
import { trackingSchema } from '../graph/settings.js';

/** A path option in a spec file: 'a.b' or ['a.b', 'c'] (graph.md section 5). */
const path = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const stringList = z.union([z.string().min(1), z.array(z.string().min(1))]);

const RESERVED_PARAMS = ['name', 'handler', 'inputPath', 'resultPath', 'fullEvent'];

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
  })
  .strict();

export type StepSpec = z.infer<typeof stepSpecSchema>;
export type GraphSpec = z.infer<typeof graphSpecSchema>;
