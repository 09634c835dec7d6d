import type { TrackingOptions } from '../graph/settings.js';

/** Tracking options with every default filled in (monitoring.md section 3). */
export type ResolvedTracking = {
  enabled: boolean;
  store: string;
  recordIo: boolean;
  ioSampleRate: number;
  maxIoBytes: number;
  bufferSize: number;
  flushIntervalMs: number;
  flushBatchSize: number;
  retentionDays: number;
  reopenIntervalMs: number;
};

/**
 * The graph's options overridden field by field by the server's (`false`: off); the store by precedence: the
 * server's › SERVEGRAPH_STORE › the graph's › the default (`sqlite:./servegraph.db` for serve() and the CLI,
 * `sqlite::memory:` for the mock server).
 */
export function resolveTracking(
  graph: TrackingOptions,
  server: TrackingOptions | false | undefined,
  defaultStore: string,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedTracking {
  const t: TrackingOptions = server === false ? { ...graph, enabled: false } : { ...graph, ...server };
  const envStore = env.SERVEGRAPH_STORE === '' ? undefined : env.SERVEGRAPH_STORE;
  const store = (server === false ? undefined : server?.store) ?? envStore ?? graph.store ?? defaultStore;
  return {
    enabled: t.enabled ?? true,
    store,
    recordIo: t.recordIo ?? false,
    ioSampleRate: t.ioSampleRate ?? 1,
    maxIoBytes: t.maxIoBytes ?? 16_384,
    bufferSize: t.bufferSize ?? 10_000,
    flushIntervalMs: t.flushIntervalMs ?? 1000,
    flushBatchSize: t.flushBatchSize ?? 500,
    retentionDays: t.retentionDays ?? 7,
    reopenIntervalMs: t.reopenIntervalMs ?? 30_000,
  };
}
