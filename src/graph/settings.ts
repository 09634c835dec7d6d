import { z } from 'zod';
import { SgError } from '../errors/index.js';

/** graph.setTracking options (monitoring.md section 3); the monitoring issue puts them to work. */
export const trackingSchema = z
  .object({
    enabled: z.boolean().optional(),
    store: z.string().min(1).optional(),
    recordIo: z.boolean().optional(),
    ioSampleRate: z.number().min(0).max(1).optional(),
    maxIoBytes: z.number().int().min(1).optional(),
    bufferSize: z.number().int().min(1).optional(),
    flushIntervalMs: z.number().int().min(10).optional(),
    flushBatchSize: z.number().int().min(1).optional(),
    retentionDays: z.number().min(0).optional(),
    reopenIntervalMs: z.number().int().min(10).optional(),
  })
  .strict();

export type TrackingOptions = z.infer<typeof trackingSchema>;

export type StreamingSettings = { enabled: boolean; maxBufferedChunks: number };

/** Turn the first zod issue into SG_ERR_INVALID_OPTION naming the field and what was expected. */
export function parseOptions<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.join('.');
  throw new SgError('SG_ERR_INVALID_OPTION', `${what}: ${field ? `${field}: ` : ''}${issue.message}`, {
    details: { field: field || undefined },
  });
}

export function checkStreaming(enabled: unknown, options: unknown): StreamingSettings {
  if (typeof enabled !== 'boolean') {
    throw new SgError('SG_ERR_INVALID_OPTION', `setStreaming: enabled must be a boolean`, {
      details: { field: 'enabled' },
    });
  }
  const o = parseOptions(
    z.object({ maxBufferedChunks: z.number().int().min(1).optional() }).strict(),
    options ?? {},
    'setStreaming',
  );
  return { enabled, maxBufferedChunks: o.maxBufferedChunks ?? 16 };
}

export const graphOptionsSchema = z
  .object({ name: z.unknown().optional(), baseDir: z.string().min(1).optional() })
  .strict();
