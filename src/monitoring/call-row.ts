import { fnv1a } from '../util/fnv1a.js';
import type { CallRow } from './store/store.js';
import type { CallReport } from './types.js';

const round1 = (x: number) => Math.round(x * 10) / 10;

/** Keep inputs/outputs when fnv1a32(eventId) / 2^32 < rate: decided per event, the same on every server (section 4). */
export function sampled(eventId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return fnv1a(eventId) / 2 ** 32 < rate;
}

/** A kept input or output: as it is, or `{truncated, bytes, preview}` when its JSON is longer than `maxBytes`. */
export function keptIo(v: unknown, maxBytes: number): unknown {
  if (v === undefined) return null;
  let json: string | undefined;
  try {
    json = JSON.stringify(v);
  } catch {
    return { truncated: true, bytes: null, preview: '(not JSON)' };
  }
  if (json === undefined) return null;
  const bytes = Buffer.byteLength(json);
  if (bytes <= maxBytes) return JSON.parse(json) as unknown;
  return { truncated: true, bytes, preview: json.slice(0, 1024) };
}

export type IoOptions = { recordIo: boolean; ioSampleRate: number; maxIoBytes: number };

/** A finished call as its `sg_calls` row (section 4); `uid` is its endpoint's record. */
export function callRow(r: CallReport, uid: string, io: IoOptions): CallRow {
  const u = r.usage;
  const prompt = Number.isInteger(u?.prompt_tokens) ? (u!.prompt_tokens as number) : null;
  const completion = Number.isInteger(u?.completion_tokens) ? (u!.completion_tokens as number) : null;
  const total = Number.isInteger(u?.total_tokens)
    ? (u!.total_tokens as number)
    : prompt !== null && completion !== null
      ? prompt + completion
      : null;
  const keep = io.recordIo && sampled(r.eventId, io.ioSampleRate);
  return {
    endpointUid: uid,
    eventId: r.eventId,
    startedAt: r.startedAt,
    latencyMs: round1(r.latencyMs),
    queueMs: r.queueMs === null ? null : round1(r.queueMs),
    outcome: r.aborted ? 'aborted' : r.error ? 'error' : 'ok',
    errorCode: r.error?.code ?? null,
    errorMessage: r.error ? r.error.message.slice(0, 500) : null,
    streamed: r.streamed === true,
    ttfcMs: r.ttfcMs == null ? null : round1(r.ttfcMs),
    chunks: r.chunks ?? null,
    batchSize: r.batchSize,
    promptTokens: prompt,
    completionTokens: completion,
    totalTokens: total,
    usageEstimated: u?.estimated === true,
    usage: u ?? null,
    inputs: keep ? keptIo(r.input, io.maxIoBytes) : null,
    outputs: keep ? keptIo(r.output, io.maxIoBytes) : null,
  };
}
