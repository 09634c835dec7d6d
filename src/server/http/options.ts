import type { LoggerOptions } from 'pino';
import { z } from 'zod';
import { parseOptions, type TrackingOptions, trackingSchema } from '../../graph/settings.js';

import type { LoadProgress } from '../load-tracker.js';

export type { LoadProgress };

/** The OpenAI-compatible front's options (http.md, last section). */
export type OpenAIFrontOptions = { model?: string; path?: string; answerPath?: string };

/** CORS options, passed to `@fastify/cors` as they are (http.md, "Limits"). */
export type CorsOptions = Record<string, unknown>;

/** Options of `serve(graph, options)` (http.md, `serve`). */
export type ServeOptions = {
  /** address to listen on (default '127.0.0.1'; '0.0.0.0' for all interfaces) */
  host?: string;
  /** port (default 8080); 0 picks a free port, read it from `app.port` */
  port?: number;
  /** largest request body in bytes (default 1048576); larger is 413 */
  bodyLimit?: number;
  /** format of a streamed reply when `Accept` does not choose one (default 'sse') */
  streamFormat?: 'sse' | 'ndjson' | 'json';
  /** when set, requests must carry `Authorization: Bearer <token>` */
  authToken?: string;
  /** time allowed until the whole reply (default 120000); 0: no limit */
  requestTimeoutMs?: number;
  /** silence on an open stream after which a keep-alive line is sent (default 15000); 0: never */
  heartbeatMs?: number;
  /** CORS headers and preflight (default false) */
  cors?: boolean | CorsOptions;
  /** graph requests in flight at once (default 1024); one more is 429; 0: no limit */
  maxConcurrency?: number;
  /** value of `Retry-After` on 429 and 503 (default 1) */
  retryAfterSeconds?: number;
  /** how long graceful shutdown lets requests in flight finish (default 10000) */
  graceMs?: number;
  /**
   * plain replies decided in one event-loop turn are written together at its end, none held longer than
   * this after the first (default 1); 0: each written at once
   */
  coalesceRepliesMs?: number;
  /** the OpenAI-compatible front (default true) */
  openai?: boolean | OpenAIFrontOptions;
  /** resolve `serve` only once every model is loaded (default true) */
  waitUntilReady?: boolean;
  /** called each time a model copy finishes loading */
  onProgress?: (progress: LoadProgress) => void;
  /** SIGTERM and SIGINT start a graceful shutdown (default false) */
  handleSignals?: boolean;
  /** JSON logs with one access line per request (default true); pino options to configure them */
  logger?: boolean | LoggerOptions;
  /** monitoring options (monitoring.md section 3), or false */
  tracking?: TrackingOptions | false;
  /** `GET /metrics` (default true) */
  metrics?: boolean;
  /** `/dashboard` and its assets (default true) */
  dashboard?: boolean;
  /** `/endpoints…` (default true) */
  monitoringApi?: boolean;
};

/** The options with their defaults filled in. */
export type ResolvedServeOptions = Required<
  Pick<
    ServeOptions,
    | 'host'
    | 'port'
    | 'bodyLimit'
    | 'streamFormat'
    | 'requestTimeoutMs'
    | 'heartbeatMs'
    | 'maxConcurrency'
    | 'retryAfterSeconds'
    | 'graceMs'
    | 'coalesceRepliesMs'
    | 'waitUntilReady'
    | 'handleSignals'
    | 'metrics'
    | 'dashboard'
    | 'monitoringApi'
  >
> & {
  authToken: string | undefined;
  cors: boolean | CorsOptions;
  openai: false | (Required<Pick<OpenAIFrontOptions, 'model' | 'path'>> & Pick<OpenAIFrontOptions, 'answerPath'>);
  onProgress: ((progress: LoadProgress) => void) | undefined;
  logger: boolean | LoggerOptions;
  tracking: TrackingOptions | false | undefined;
};

const plainObject = z.record(z.string(), z.unknown());
const duration = z.number().min(0);

const serveSchema = z
  .object({
    host: z.string().min(1).optional(),
    port: z.number().int().min(0).max(65535).optional(),
    bodyLimit: z.number().int().min(1).optional(),
    streamFormat: z.enum(['sse', 'ndjson', 'json']).optional(),
    authToken: z.string().min(1).optional(),
    requestTimeoutMs: duration.optional(),
    heartbeatMs: duration.optional(),
    cors: z.union([z.boolean(), plainObject]).optional(),
    maxConcurrency: z.number().int().min(0).optional(),
    retryAfterSeconds: z.number().int().min(1).optional(),
    graceMs: duration.optional(),
    coalesceRepliesMs: z.number().min(0).max(1000).optional(),
    openai: z
      .union([
        z.boolean(),
        z
          .object({
            model: z.string().min(1).optional(),
            path: z.string().startsWith('/').optional(),
            answerPath: z.string().min(1).optional(),
          })
          .strict(),
      ])
      .optional(),
    waitUntilReady: z.boolean().optional(),
    onProgress: z
      .custom<(progress: LoadProgress) => void>((v) => typeof v === 'function', {
        message: 'expected a function ({ loaded, total, endpoint }) => void',
      })
      .optional(),
    handleSignals: z.boolean().optional(),
    logger: z.union([z.boolean(), plainObject]).optional(),
    tracking: z.union([z.literal(false), trackingSchema]).optional(),
    metrics: z.boolean().optional(),
    dashboard: z.boolean().optional(),
    monitoringApi: z.boolean().optional(),
  })
  .strict();

const closeSchema = z.object({ graceMs: duration.optional() }).strict();

/** Validate `serve`'s options (SG_ERR_INVALID_OPTION naming the field) and fill in the defaults. */
export function resolveServeOptions(options: unknown): ResolvedServeOptions {
  const o = parseOptions(serveSchema, options ?? {}, 'serve');
  const openai = o.openai ?? true;
  return {
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 8080,
    bodyLimit: o.bodyLimit ?? 1_048_576,
    streamFormat: o.streamFormat ?? 'sse',
    authToken: o.authToken,
    requestTimeoutMs: o.requestTimeoutMs ?? 120_000,
    heartbeatMs: o.heartbeatMs ?? 15_000,
    cors: o.cors ?? false,
    maxConcurrency: o.maxConcurrency ?? 1024,
    retryAfterSeconds: o.retryAfterSeconds ?? 1,
    graceMs: o.graceMs ?? 10_000,
    coalesceRepliesMs: o.coalesceRepliesMs ?? 1,
    openai:
      openai === false
        ? false
        : openai === true
          ? { model: 'servegraph', path: '/' }
          : { model: openai.model ?? 'servegraph', path: openai.path ?? '/', answerPath: openai.answerPath },
    waitUntilReady: o.waitUntilReady ?? true,
    onProgress: o.onProgress,
    handleSignals: o.handleSignals ?? false,
    logger: (o.logger as boolean | LoggerOptions | undefined) ?? true,
    tracking: o.tracking,
    metrics: o.metrics ?? true,
    dashboard: o.dashboard ?? true,
    monitoringApi: o.monitoringApi ?? true,
  };
}

/** Validate the options of `app.close()`. */
export function resolveCloseOptions(options: unknown, defaultGraceMs: number): { graceMs: number } {
  const o = parseOptions(closeSchema, options ?? {}, 'close');
  return { graceMs: o.graceMs ?? defaultGraceMs };
}

/** The longest delay setTimeout keeps; a longer one would fire at once, so it is no limit in practice. */
export const MAX_TIMER_MS = 2_147_483_647;
