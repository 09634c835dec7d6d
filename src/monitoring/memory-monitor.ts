import { createHash, randomBytes } from 'node:crypto';
import { SgError } from '../errors/index.js';
import { computeStats } from './stats.js';
import type { CallRecord, CallReport, CallSink, EndpointDefinition, EndpointRecord, EndpointStats } from './types.js';

const MAX_CALLS_PER_ENDPOINT = 10_000;

/** The canonical JSON (sorted keys) of a value, for definition hashes. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

/**
 * Endpoint records and call records kept in memory: the call-record sink the runner reports to, and the
 * queries of monitoring.md section 8. The monitoring issue adds the SQLite and PostgreSQL stores.
 */
export class MemoryMonitor implements CallSink {
  private readonly endpoints = new Map<string, EndpointRecord>();
  private readonly rows = new Map<string, RecordRing>();

  constructor(
    readonly graph: string,
    readonly enabled: boolean,
    private readonly options: { recordIo: boolean; ioSampleRate: number } = { recordIo: false, ioSampleRate: 1 },
  ) {}

  registerEndpoints(defs: EndpointDefinition[], state: 'loading' | 'serving' = 'serving'): void {
    const now = new Date().toISOString();
    for (const d of defs) {
      const { creationStrategy: _s, ...definition } = d;
      const prev = this.endpoints.get(d.name);
      this.endpoints.set(d.name, {
        uid: this.enabled ? (prev?.uid ?? randomBytes(16).toString('hex')) : null,
        graph: this.graph,
        ...d,
        tag: this.enabled ? 'latest' : null,
        definitionHash: createHash('sha256').update(canonical(definition)).digest('hex'),
        state,
        error: null,
        instances: 1,
        createdAt: this.enabled ? (prev?.createdAt ?? now) : null,
        updatedAt: this.enabled ? now : null,
        firstRequestAt: prev?.firstRequestAt ?? null,
        lastRequestAt: prev?.lastRequestAt ?? null,
      });
    }
  }

  setState(names: string[], state: EndpointRecord['state'], error: string | null = null): void {
    for (const name of names) {
      const e = this.endpoints.get(name);
      if (e === undefined) continue;
      e.state = state;
      e.error = state === 'error' ? error : null;
      e.instances = state === 'stopped' ? 0 : 1;
    }
  }

  record(r: CallReport): void {
    if (!this.enabled) return;
    try {
      const ep = this.endpoints.get(r.endpoint);
      if (ep === undefined) return;
      const startedAt = new Date(r.startedAt).toISOString();
      ep.firstRequestAt ??= startedAt;
      ep.lastRequestAt = startedAt;
      const u = r.usage;
      const prompt = typeof u?.prompt_tokens === 'number' ? u.prompt_tokens : null;
      const completion = typeof u?.completion_tokens === 'number' ? u.completion_tokens : null;
      const total =
        typeof u?.total_tokens === 'number'
          ? u.total_tokens
          : prompt !== null && completion !== null
            ? prompt + completion
            : null;
      const keepIo = this.options.recordIo && sampled(r.eventId, this.options.ioSampleRate);
      const rec: CallRecord = {
        endpointUid: ep.uid!,
        eventId: r.eventId,
        startedAt,
        latencyMs: Math.round(r.latencyMs * 10) / 10,
        queueMs: r.queueMs === null ? null : Math.round(r.queueMs * 10) / 10,
        outcome: r.aborted ? 'aborted' : r.error ? 'error' : 'ok',
        errorCode: r.error?.code ?? null,
        errorMessage: r.error ? r.error.message.slice(0, 500) : null,
        streamed: r.streamed === true,
        ttfcMs: r.ttfcMs == null ? null : Math.round(r.ttfcMs * 10) / 10,
        chunks: r.chunks ?? null,
        batchSize: r.batchSize,
        promptTokens: prompt,
        completionTokens: completion,
        totalTokens: total,
        usageEstimated: u?.estimated === true,
        usage: u ?? null,
        inputs: keepIo ? r.input : null,
        outputs: keepIo ? r.output : null,
      };
      let ring = this.rows.get(r.endpoint);
      if (ring === undefined) this.rows.set(r.endpoint, (ring = new RecordRing(MAX_CALLS_PER_ENDPOINT)));
      ring.push(rec);
    } catch {
      // recording never breaks the event path (monitoring.md section 5)
    }
  }

  // ---- the query object: server.monitoring (monitoring.md section 8); every method returns a Promise ----

  async listEndpoints(
    options: { window?: string; all?: boolean } = {},
  ): Promise<Array<EndpointRecord & { stats: EndpointStats | null }>> {
    const window = options.window ?? '15m';
    return [...this.endpoints.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((e) => ({
        ...e,
        stats: this.enabled
          ? computeStats(e.name, e.uid, window, this.rows.get(e.name)?.toArray() ?? [], e.lastRequestAt)
          : null,
      }));
  }

  async getEndpoint(name: string): Promise<EndpointRecord> {
    return { ...this.endpoint(name) };
  }

  async stats(name: string, options: { window?: string; uid?: string } = {}): Promise<EndpointStats> {
    const e = this.endpoint(name);
    this.requireTracking();
    if (options.uid !== undefined) {
      if (typeof options.uid !== 'string' || !/^[0-9a-f]{32}$/.test(options.uid)) {
        throw new SgError(
          'SG_ERR_MONITOR_QUERY',
          `uid must be 32 lowercase hex characters, got '${String(options.uid)}'`,
          {
            details: { parameter: 'uid' },
          },
        );
      }
      // kept in memory: only the current record exists
      if (options.uid !== e.uid) {
        throw new SgError('SG_ERR_ENDPOINT_NOT_FOUND', `endpoint '${name}' has no record with uid '${options.uid}'`, {
          endpoint: name,
          details: { uid: options.uid },
        });
      }
    }
    return computeStats(name, e.uid, options.window ?? '15m', this.rows.get(name)?.toArray() ?? [], e.lastRequestAt);
  }

  /** Latest call records of an endpoint, newest first. */
  async calls(
    name: string,
    options: { limit?: number; outcome?: 'ok' | 'error' | 'aborted' } = {},
  ): Promise<CallRecord[]> {
    this.endpoint(name);
    this.requireTracking();
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new SgError('SG_ERR_MONITOR_QUERY', `limit must be an integer from 1 to 1000, got ${String(limit)}`, {
        details: { parameter: 'limit' },
      });
    }
    if (options.outcome !== undefined && !['ok', 'error', 'aborted'].includes(options.outcome)) {
      throw new SgError(
        'SG_ERR_MONITOR_QUERY',
        `outcome must be ok, error or aborted, got '${String(options.outcome)}'`,
        { details: { parameter: 'outcome' } },
      );
    }
    const rows = (this.rows.get(name)?.toArray() ?? []).filter(
      (c) => options.outcome === undefined || c.outcome === options.outcome,
    );
    return rows
      .slice(-limit)
      .reverse()
      .map((c) => ({ ...c }));
  }

  /** Records are written synchronously here: nothing waits. */
  async flush(): Promise<void> {}

  private endpoint(name: string): EndpointRecord {
    const e = this.endpoints.get(name);
    if (e === undefined) {
      throw new SgError('SG_ERR_ENDPOINT_NOT_FOUND', `no model endpoint named '${name}' in graph '${this.graph}'`, {
        endpoint: name,
      });
    }
    return e;
  }

  private requireTracking(): void {
    if (!this.enabled)
      throw new SgError(
        'SG_ERR_TRACKING_DISABLED',
        `tracking is off for graph '${this.graph}': no call records are kept`,
      );
  }
}

/** Keep inputs/outputs when fnv1a32(eventId) / 2^32 < rate (monitoring.md section 4). */
export function sampled(eventId: string, rate: number): boolean {
  let h = 0x811c9dc5;
  for (let i = 0; i < eventId.length; i++) {
    h ^= eventId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 2 ** 32 < rate;
}

/** The latest call records of an endpoint: a fixed ring, so keeping the last N costs nothing per call. */
class RecordRing {
  private readonly items: CallRecord[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  push(rec: CallRecord): void {
    if (this.items.length < this.capacity) this.items.push(rec);
    else this.items[this.next] = rec;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  toArray(): CallRecord[] {
    if (this.items.length < this.capacity) return [...this.items];
    return [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
}
