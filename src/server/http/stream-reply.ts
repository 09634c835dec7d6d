import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyReply } from 'fastify';
import type { Event } from '../../engine/event.js';
import type { ReplySink } from '../../engine/owner.js';
import type { StreamDone } from '../../engine/stream-types.js';
import { SgError } from '../../errors/index.js';
import { DeadlineEntry, type Deadlines } from './deadlines.js';
import { MAX_TIMER_MS } from './options.js';
import { setOwn } from './records.js';
import { takeOver } from './reply.js';
import { stateOf } from './request-state.js';

export type WireFormat = 'sse' | 'ndjson' | 'json';

/** The format a request gets (http.md, "The streamed reply"); `explicit` when `Accept` names SSE or NDJSON. */
export type Negotiated = { readonly format: WireFormat; readonly explicit: boolean };

const SSE = 'text/event-stream';
const NDJSON = 'application/x-ndjson';

const IMPLICIT: Record<WireFormat, Negotiated> = {
  sse: Object.freeze({ format: 'sse', explicit: false }),
  ndjson: Object.freeze({ format: 'ndjson', explicit: false }),
  json: Object.freeze({ format: 'json', explicit: false }),
};

const EXPLICIT_SSE: Negotiated = Object.freeze({ format: 'sse', explicit: true });
const EXPLICIT_NDJSON: Negotiated = Object.freeze({ format: 'ndjson', explicit: true });

/** The Accept table of http.md: SSE, NDJSON, both (higher `q`, first on a tie), JSON, or `streamFormat`. */
export function negotiate(accept: string | undefined, streamFormat: WireFormat): Negotiated {
  // the common cases, without parsing (nor an object)
  if (accept === undefined || accept === '*/*') return IMPLICIT[streamFormat];
  if (accept === SSE) return EXPLICIT_SSE;
  if (accept === NDJSON) return EXPLICIT_NDJSON;
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

/**
 * How a stream is written on the wire: SSE and NDJSON of http.md, or the OpenAI front's chunk objects. Each
 * method returns the text to write.
 */
export interface StreamEncoder {
  readonly contentType: string;
  /** chunk `seq` (0-based in this response); throws when the chunk has no JSON form */
  chunk(seq: number, body: unknown): string;
  done(payload: Record<string, unknown>): string;
  error(error: { code: string; message: string; step: string | null; endpoint: string | null }, err: SgError): string;
  readonly ping: string;
  /** a reply that does not stream, sent on a stream: its chunks and done payload (default: one chunk) */
  plain?(body: unknown): { chunks: unknown[]; done: Record<string, unknown> };
}

/** what JSON may escape in a string: quote, backslash, control characters, surrogates (when unpaired) */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * A chunk body as JSON. Strings and numbers, what most streams carry (tokens, scores), skip JSON.stringify,
 * a call into the runtime that costs more than the rest of a chunk's writing; the text is the same.
 */
const chunkData = (body: unknown): string => {
  if (typeof body === 'string') return NEEDS_ESCAPE.test(body) ? JSON.stringify(body) : `"${body}"`;
  if (typeof body === 'number') return Number.isFinite(body) ? `${body}` : 'null';
  return body instanceof Uint8Array ? JSON.stringify(base64(body)) : (JSON.stringify(body) ?? 'null');
};

export const SSE_ENCODER: StreamEncoder = {
  contentType: 'text/event-stream; charset=utf-8',
  chunk: (seq, body) => `event: chunk\nid: ${seq}\ndata: ${chunkData(body)}\n\n`,
  done: (payload) => `event: done\ndata: ${JSON.stringify(payload)}\n\n`,
  error: (error) => `event: error\ndata: ${JSON.stringify({ error })}\n\n`,
  ping: ': ping\n\n',
};

export const NDJSON_ENCODER: StreamEncoder = {
  contentType: 'application/x-ndjson; charset=utf-8',
  chunk: (seq, body) => `{"event":"chunk","seq":${seq},"data":${chunkData(body)}}\n`,
  done: (payload) => `{"event":"done",${JSON.stringify(payload).slice(1)}\n`,
  error: (error) => `${JSON.stringify({ event: 'error', error })}\n`,
  ping: '{"event":"ping"}\n',
};

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
 * Its graph request tells it when the response closes; its silence timer is an entry of the server's
 * heartbeat list (no timer per stream).
 */
export class StreamReply extends DeadlineEntry implements ReplySink {
  private readonly res: ServerResponse;
  private headersOut = false;
  private closed = false;
  private chunks = 0;
  /** performance.now() of the last write (a fast call; Date.now() is a runtime call, once per chunk); 0 before the first */
  private lastWriteAt = 0;
  /** the text written in this event-loop turn, handed to the socket at its end (see write()) */
  private pendingText = '';
  private flushQueued = false;
  /** `take` of chunks written while the socket was full, released on `drain` (or when the socket closes) */
  private waiting: Array<() => void> = [];
  private drainWatched = false;

  constructor(
    private readonly http: FastifyReply,
    private readonly id: string,
    private readonly encoder: StreamEncoder,
    private readonly explicit: boolean,
    private readonly heartbeatMs: number,
    private readonly heartbeats: Deadlines,
    private readonly hooks: StreamReplyHooks,
    /** headers a hook set through fastify (CORS) go out too */
    private readonly hookHeaders: boolean,
  ) {
    super();
    this.res = http.raw;
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
    if (this.encoder.plain !== undefined) {
      const { chunks, done } = this.encoder.plain(body);
      for (const c of chunks) if (!this.writeChunk(c)) return;
      this.finish({ id: this.id, chunks: this.chunks, ...done });
      return;
    }
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
    stateOf(this.http.request).errorCode = err.code;
    if (err.status >= 500) this.http.log.error({ err, code: err.code }, `stream failed: ${err.message}`);
    const error = { code: err.code, message: err.message, step: err.step ?? null, endpoint: err.endpoint ?? null };
    this.write(this.encoder.error(error, err));
    this.close();
  }

  chunk(ev: Event, take: () => void): void {
    if (this.closed || !this.writeChunk(ev.body) || !this.res.writableNeedDrain) {
      take();
      return;
    }
    if (!this.drainWatched) {
      this.drainWatched = true;
      this.res.on('drain', () => this.release());
    }
    this.waiting.push(take);
  }

  end(done: StreamDone, _ev: Event): void {
    if (this.closed) return;
    this.finish(done);
  }

  /** The response closed (finished, or cut by the client): nothing more is written. */
  responseClosed(): void {
    this.stop();
    this.closed = true;
    this.pendingText = '';
    this.release();
  }

  // ---- writing ----

  private writeChunk(body: unknown): boolean {
    let text: string;
    try {
      text = this.encoder.chunk(this.chunks, body);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.fail(new SgError('SG_ERR_INTERNAL', `a chunk of the reply cannot be sent as JSON: ${why}`, { cause: err }));
      return false;
    }
    this.chunks++;
    if (!this.headersOut) this.hooks.started();
    this.write(text);
    return true;
  }

  private finish(done: StreamDone): void {
    // the done payload: the producer's summary, with this response's id and chunk count first
    const payload: Record<string, unknown> = { id: done.id ?? this.id, chunks: this.chunks };
    for (const key in done) {
      if (key !== 'id' && key !== 'chunks' && Object.hasOwn(done, key)) setOwn(payload, key, done[key]);
    }
    let text: string;
    try {
      text = this.encoder.done(payload);
    } catch {
      text = this.encoder.done({ id: payload.id as string, chunks: this.chunks });
    }
    this.write(text);
    this.close();
  }

  /**
   * Write `text`. What is written in one event-loop turn goes to the socket in one write at the end of that
   * turn (or at once past FLUSH_AT): Node corks a response's socket until the turn ends anyway, so no chunk
   * leaves later than it would have, and a producer that yields many chunks at once costs one write instead
   * of one per chunk (each write is a chunked-encoding frame and four buffered entries). A chunk produced
   * in a later turn (tokens arriving) is written in that turn.
   */
  private write(text: string): void {
    if (this.closed || this.res.destroyed) return;
    if (!this.headersOut) this.sendHeaders();
    this.pendingText = this.pendingText === '' ? text : this.pendingText + text;
    this.lastWriteAt = performance.now();
    if (this.pendingText.length >= FLUSH_AT) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      process.nextTick(flushTurn, this);
    }
    // the silence timer runs once started; it looks at lastWriteAt when it comes due (nothing to do per chunk)
    if (!this.listed) this.armHeartbeat();
  }

  /** Hand the text of this turn to the socket. */
  flush(): void {
    this.flushQueued = false;
    const text = this.pendingText;
    if (text === '') return;
    this.pendingText = '';
    if (!this.res.destroyed) this.res.write(text);
  }

  private sendHeaders(): void {
    this.headersOut = true;
    const res = takeOver(
      this.http,
      200,
      [
        'content-type',
        this.encoder.contentType,
        'cache-control',
        'no-cache, no-transform',
        'connection',
        'keep-alive',
        'x-accel-buffering',
        'no',
        'x-request-id',
        this.id,
      ],
      this.hookHeaders,
    );
    res.socket?.setNoDelay(true);
    // no flushHeaders(): the headers leave with the first write, in the same packet
  }

  /** start the silence timer: a keep-alive line once `heartbeatMs` pass without a write */
  private armHeartbeat(): void {
    const ms = this.heartbeatMs;
    if (this.closed || ms <= 0 || ms > MAX_TIMER_MS) return;
    if (!this.explicit && !this.headersOut) return;
    this.heartbeats.add(this, Date.now() + ms);
  }

  /** The silence timer came due (Deadlines): a keep-alive line, unless written to since it started. */
  expire(): void {
    const ms = this.heartbeatMs;
    // written to since it started: wait out the rest of the silence instead
    const silentMs = performance.now() - this.lastWriteAt;
    if (this.lastWriteAt > 0 && silentMs < ms) this.heartbeats.add(this, Date.now() + (ms - silentMs));
    else this.write(this.encoder.ping);
  }

  private close(): void {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    this.release();
    const text = this.pendingText;
    this.pendingText = '';
    if (this.res.destroyed) return;
    if (text === '') this.res.end();
    else this.res.end(text);
  }

  /** no more keep-alive lines */
  private stop(): void {
    this.heartbeats.remove(this);
  }

  private release(): void {
    const takes = this.waiting;
    if (takes.length === 0) return;
    this.waiting = [];
    for (const take of takes) take();
  }
}

/** text of one turn past which it is written at once: the socket's high-water mark, so backpressure still shows */
const FLUSH_AT = 16 * 1024;

function flushTurn(stream: StreamReply): void {
  stream.flush();
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
