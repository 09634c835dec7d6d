import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { Event } from '../../engine/event.js';
import type { ReplySink } from '../../engine/owner.js';
import type { StreamDone } from '../../engine/stream-types.js';
import { SgError } from '../../errors/index.js';
import { MAX_TIMER_MS } from './options.js';
import { stateOf } from './request-state.js';

export type WireFormat = 'sse' | 'ndjson' | 'json';

/** The format a request gets (http.md, "The streamed reply"); `explicit` when `Accept` names SSE or NDJSON. */
export type Negotiated = { format: WireFormat; explicit: boolean };

const SSE = 'text/event-stream';
const NDJSON = 'application/x-ndjson';

/** The Accept table of http.md: SSE, NDJSON, both (higher `q`, first on a tie), JSON, or `streamFormat`. */
export function negotiate(accept: string | undefined, streamFormat: WireFormat): Negotiated {
  let sse: { q: number; at: number } | undefined;
  let ndjson: { q: number; at: number } | undefined;
  let json = false;
  const ranges = (accept ?? '').split(',');
  for (let at = 0; at < ranges.length; at++) {
    const [type = '', ...params] = ranges[at]!.split(';').map((s) => s.trim());
    const media = type.toLowerCase();
    let q = 1;
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'q') {
        const v = Number(p.slice(eq + 1).trim());
        if (Number.isFinite(v)) q = v;
      }
    }
    if (media === SSE && sse === undefined) sse = { q, at };
    else if (media === NDJSON && ndjson === undefined) ndjson = { q, at };
    else if (media === 'application/json') json = true;
  }
  if (sse !== undefined && ndjson !== undefined) {
    const pick = sse.q > ndjson.q || (sse.q === ndjson.q && sse.at < ndjson.at) ? 'sse' : 'ndjson';
    return { format: pick, explicit: true };
  }
  if (sse !== undefined) return { format: 'sse', explicit: true };
  if (ndjson !== undefined) return { format: 'ndjson', explicit: true };
  if (json) return { format: 'json', explicit: false };
  return { format: streamFormat, explicit: false };
}

/** What the graph route gives the writer: the ordinary (JSON) answers used until headers are out. */
export type StreamReplyHooks = {
  /** a reply that does not stream, to a client that did not name SSE or NDJSON: the non-streamed reply */
  plainReply(body: unknown): void;
  /** a failure before the headers: the ordinary error response */
  plainFail(err: SgError): void;
  /** the first chunk is out (requestTimeoutMs no longer applies) */
  started(): void;
};

/**
 * The SSE / NDJSON writer (http.md, "The streamed reply"): a ReplySink that takes chunks as the graph makes
 * them and writes each to the socket at once. Headers go out with the first chunk (or `done`), or earlier
 * with the first keep-alive line when `Accept` named the format; until then failures are ordinary errors.
 */
export class StreamReply implements ReplySink {
  private readonly res: ServerResponse;
  private headersOut = false;
  private closed = false;
  private chunks = 0;
  private idle: NodeJS.Timeout | undefined;
  /** `take` of chunks written while the socket was full, released on `drain` (or when the socket closes) */
  private waiting: Array<() => void> = [];

  constructor(
    private readonly http: FastifyReply,
    private readonly id: string,
    private readonly format: 'sse' | 'ndjson',
    private readonly explicit: boolean,
    private readonly heartbeatMs: number,
    private readonly hooks: StreamReplyHooks,
  ) {
    this.res = http.raw;
    this.res.once('close', () => this.onClose());
    this.res.on('drain', () => this.release());
    if (explicit) this.armHeartbeat();
  }

  // ---- ReplySink ----

  reply(body: unknown): void {
    if (this.closed) return;
    if (!this.explicit && !this.headersOut) {
      this.stop();
      this.hooks.plainReply(body);
      return;
    }
    // a client that asked for SSE or NDJSON gets a non-streamed reply as one chunk (none for undefined), then done
    if (body !== undefined && !this.writeChunk(body)) return;
    this.finish({ id: this.id, chunks: this.chunks });
  }

  fail(err: SgError): void {
    if (this.closed) return;
    if (!this.headersOut) {
      this.stop();
      this.hooks.plainFail(err);
      return;
    }
    stateOf(this.http.request.raw).errorCode = err.code;
    if (err.status >= 500) this.http.log.error({ err, code: err.code }, `stream failed: ${err.message}`);
    const error = { code: err.code, message: err.message, step: err.step ?? null, endpoint: err.endpoint ?? null };
    this.write(
      this.format === 'sse'
        ? `event: error\ndata: ${JSON.stringify({ error })}\n\n`
        : `${JSON.stringify({ event: 'error', error })}\n`,
    );
    this.close();
  }

  chunk(ev: Event, take: () => void): void {
    if (this.closed) {
      take();
      return;
    }
    if (!this.writeChunk(ev.body)) {
      take();
      return;
    }
    if (this.res.writableNeedDrain) this.waiting.push(take);
    else take();
  }

  end(done: StreamDone, _ev: Event): void {
    if (this.closed) return;
    this.finish(done);
  }

  // ---- writing ----

  private writeChunk(body: unknown): boolean {
    let data: string | undefined;
    try {
      data = body instanceof Uint8Array ? JSON.stringify(base64(body)) : (JSON.stringify(body) ?? 'null');
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.fail(new SgError('SG_ERR_INTERNAL', `a chunk of the reply cannot be sent as JSON: ${why}`, { cause: err }));
      return false;
    }
    const seq = this.chunks++;
    if (!this.headersOut) this.hooks.started();
    this.write(
      this.format === 'sse'
        ? `event: chunk\nid: ${seq}\ndata: ${data}\n\n`
        : `{"event":"chunk","seq":${seq},"data":${data}}\n`,
    );
    return true;
  }

  private finish(done: StreamDone): void {
    const { id, chunks: _chunks, ...rest } = done;
    const payload = { id: id ?? this.id, chunks: this.chunks, ...rest };
    let text: string;
    try {
      text = JSON.stringify(payload);
    } catch {
      text = JSON.stringify({ id: payload.id, chunks: this.chunks });
    }
    this.write(this.format === 'sse' ? `event: done\ndata: ${text}\n\n` : `{"event":"done",${text.slice(1)}\n`);
    this.close();
  }

  private write(text: string): void {
    if (this.closed || this.res.destroyed) return;
    this.sendHeaders();
    this.res.write(text);
    this.armHeartbeat();
  }

  private sendHeaders(): void {
    if (this.headersOut) return;
    this.headersOut = true;
    this.http.hijack();
    const res = this.res;
    res.socket?.setNoDelay(true);
    const headers: Record<string, string | number | string[]> = {};
    for (const [name, value] of Object.entries(this.http.getHeaders())) {
      if (value !== undefined) headers[name] = value;
    }
    res.writeHead(200, {
      ...headers,
      'content-type':
        this.format === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': this.id,
    });
    res.flushHeaders();
  }

  /** (re)start the silence timer: a keep-alive line after `heartbeatMs` without a write */
  private armHeartbeat(): void {
    if (this.idle !== undefined) clearTimeout(this.idle);
    this.idle = undefined;
    const ms = this.heartbeatMs;
    if (this.closed || ms <= 0 || ms > MAX_TIMER_MS) return;
    if (!this.explicit && !this.headersOut) return;
    this.idle = setTimeout(() => {
      this.idle = undefined;
      this.write(this.format === 'sse' ? ': ping\n\n' : '{"event":"ping"}\n');
    }, ms);
    this.idle.unref();
  }

  private close(): void {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    this.release();
    if (!this.res.destroyed) this.res.end();
  }

  /** no more keep-alive lines */
  private stop(): void {
    if (this.idle !== undefined) clearTimeout(this.idle);
    this.idle = undefined;
  }

  private onClose(): void {
    this.stop();
    this.closed = true;
    this.release();
  }

  private release(): void {
    const takes = this.waiting;
    this.waiting = [];
    for (const take of takes) take();
  }
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
