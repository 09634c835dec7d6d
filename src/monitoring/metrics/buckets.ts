/** Histogram bucket bounds of the Prometheus metrics (monitoring.md section 9), in seconds unless said. */

/** Model latency, step latency and HTTP request duration. `latencyBuckets` replaces it for model latency. */
export const LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
]);

/** Time a model call waits in its pool's queue. */
export const QUEUE_WAIT_BUCKETS: readonly number[] = Object.freeze([
  0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10,
]);

/** Time to the first chunk of a streamed call. */
export const FIRST_CHUNK_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
]);

/** Time per output token of a streamed call. */
export const PER_TOKEN_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64,
]);

/** Batch size, in events. */
export const BATCH_SIZE_BUCKETS: readonly number[] = Object.freeze([1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
