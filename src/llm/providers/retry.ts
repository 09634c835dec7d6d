import { SgError } from '../../errors/index.js';
import type { LLMResult } from './provider.js';

/** Statuses worth another attempt (llm.md section 3.7); connection errors and timeouts are retried too. */
const RETRY_STATUSES = new Set([408, 409, 429, 500, 502, 503, 504]);
/** A Retry-After longer than this ends the retries at once. */
const MAX_SERVER_DELAY_MS = 60_000;

export type RetryPolicy = { maxRetries: number; retryBaseDelayMs: number; retryMaxDelayMs: number };

/** The error of an aborted call: SG_ERR_ABORTED with the signal's reason as cause and what was made so far. */
export function abortedError(label: string, signal: AbortSignal, partial?: LLMResult): SgError {
  return new SgError('SG_ERR_ABORTED', `${label}: the call was aborted`, {
    cause: signal.reason,
    details: partial === undefined ? {} : { partial },
  });
}

/** An abort before anything was produced still reports its partial result: the prompt was sent (llm.md §3.7). */
export function withPartial(err: unknown, partial: LLMResult): unknown {
  if (err instanceof SgError && err.code === 'SG_ERR_ABORTED' && err.details.partial === undefined) {
    err.details.partial = partial;
  }
  return err;
}

/** The server's wish from `retry-after-ms` or `Retry-After` (seconds or an HTTP date), in ms. */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined): number | undefined {
  if (headers === undefined) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return undefined;
  if (Number.isFinite(Number(ra))) return Math.max(0, Number(ra) * 1000);
  const at = Date.parse(ra);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Whether an attempt's error deserves another attempt. */
export function retryable(err: unknown): boolean {
  if (!(err instanceof SgError)) return false;
  if (err.code === 'SG_ERR_PROVIDER_HTTP') return RETRY_STATUSES.has(err.details.status as number);
  return err.code === 'SG_ERR_PROVIDER_UNREACHABLE' || err.code === 'SG_ERR_PROVIDER_TIMEOUT';
}

/** Delay before retry n (1-based): min(max, base * 2^(n-1)) times a random factor in [0.75, 1]. */
export function backoffMs(n: number, p: RetryPolicy): number {
  return Math.min(p.retryMaxDelayMs, p.retryBaseDelayMs * 2 ** (n - 1)) * (0.75 + Math.random() * 0.25);
}

/**
 * Run `attempt` until it succeeds, fails for good, or the retries are spent; the final error carries
 * `details.attempts`. The wait between attempts ends early (SG_ERR_ABORTED) when `signal` fires.
 */
export async function withRetries<T>(
  label: string,
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  attempt: (n: number) => Promise<T>,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (signal?.aborted)
        throw err instanceof SgError && err.code === 'SG_ERR_ABORTED' ? err : abortedError(label, signal);
      const wanted = err instanceof SgError ? (err.details.retryAfterMs as number | undefined) : undefined;
      const last = n > policy.maxRetries || !retryable(err) || (wanted !== undefined && wanted > MAX_SERVER_DELAY_MS);
      if (last) {
        if (err instanceof SgError) {
          err.details.attempts = n;
          delete err.details.retryAfterMs;
        }
        throw err;
      }
      await sleep(wanted ?? backoffMs(n, policy), signal, label);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined, label: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError(label, signal));
    const onAbort = () => {
      clearTimeout(t);
      reject(abortedError(label, signal!));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * One attempt's signal: fires when the call's signal fires or after `timeoutMs`. `restart(ms)` re-arms the
 * timer (a stream's idle limit between chunks); `timedOut` tells the two causes apart.
 */
export class AttemptSignal {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  timedOut = false;
  private readonly onParent = () => this.controller.abort(this.parent?.reason);

  constructor(
    private readonly parent: AbortSignal | undefined,
    timeoutMs: number,
  ) {
    if (parent?.aborted) this.controller.abort(parent.reason);
    else parent?.addEventListener('abort', this.onParent, { once: true });
    this.restart(timeoutMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  restart(ms: number): void {
    clearTimeout(this.timer);
    if (ms > 0 && Number.isFinite(ms)) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.controller.abort(new Error('timeout'));
      }, ms);
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.parent?.removeEventListener('abort', this.onParent);
  }
}

/** Request headers every built-in provider adds: the trace context and the user's extra headers. */
export function traceHeaders(
  extra: Record<string, string> | undefined,
  trace: { traceparent: string; tracestate?: string } | undefined,
): Record<string, string> {
  const h: Record<string, string> = { ...extra };
  if (trace?.traceparent) h.traceparent = trace.traceparent;
  if (trace?.tracestate) h.tracestate = trace.tracestate;
  return h;
}
