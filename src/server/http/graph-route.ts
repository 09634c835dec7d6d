import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Event, EventInit } from '../../engine/event.js';
import type { ReplySink } from '../../engine/owner.js';
import type { ReplySlot } from '../../engine/reply-slot.js';
import type { StreamDone } from '../../engine/stream-types.js';
import { SgError } from '../../errors/index.js';
import { decodeBody } from './body.js';
import type { HttpContext } from './context.js';
import { DeadlineEntry } from './deadlines.js';
import { sendError } from './errors.js';
import { bindRouteSeries } from './http-metrics.js';
import { MAX_TIMER_MS } from './options.js';
import { type ReplyWriting, sendReply } from './reply.js';
import { ReplyCoalescer } from './reply-coalescer.js';
import { ENTERS, type RequestState, stateOf } from './request-state.js';
import { eventInitOf } from './request-to-event.js';
import {
  NDJSON_ENCODER,
  negotiate,
  SSE_ENCODER,
  type StreamEncoder,
  StreamReply,
  type StreamReplyHooks,
} from './stream-reply.js';

/**
 * Every method and path that no reserved route takes goes to the graph (http.md, "Routes"): admission at
 * arrival (readiness, draining, maxConcurrency) before the body is read, then one event per request.
 */
export function installGraphRoute(fastify: FastifyInstance, ctx: HttpContext, methods: string[]): void {
  const answers = answersOf(ctx);
  fastify.route({
    method: methods,
    url: '/*',
    onRequest: admission(ctx, '/*'),
    handler: (request, reply) => {
      handleGraphRequest(ctx, answers, request, reply);
    },
  });
}

/**
 * The route hook that admits a graph request at arrival, before its body is read (503, 429 otherwise); it also
 * enters the request (lifecycle.ts) and binds it to `route`'s metric series (http-metrics.ts).
 */
export function admission(
  ctx: HttpContext,
  route: string,
): (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void {
  const series = ctx.httpSeries?.route(route);
  const hook = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    // the route's only onRequest hook: it enters the request too (lifecycle.ts)
    const state = ctx.enter(request, reply);
    if (series !== undefined) bindRouteSeries(request, series);
    try {
      admit(ctx, state);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  };
  return Object.assign(hook, { [ENTERS]: true });
}

/** Count the request in flight until its response ends, or refuse it at once (503, 429). */
export function admit(ctx: HttpContext, state: RequestState): void {
  const { runtime } = ctx;
  const phase = ctx.phase;
  if (phase === 'draining') throw new SgError('SG_ERR_SERVER_CLOSED', 'the server is shutting down: no new requests');
  if (phase === 'failed') {
    throw new SgError('SG_ERR_NOT_READY', 'the graph failed to start: it takes no requests (see the server log)');
  }
  if (phase === 'loading') {
    throw new SgError('SG_ERR_NOT_READY', 'the graph is still starting (steps and models loading); try again later');
  }
  runtime.admit();
  // a response always closes, after it finishes or when the client cuts it: the request leaves then (lifecycle.ts)
  state.admitted = true;
}

/** The ways a graph request is answered, made once per server: no options object per request. */
type Answers = {
  noResponder: RunOptions;
  json: RunOptions;
  /** by format, then [implicit, explicit] */
  stream: Record<'sse' | 'ndjson', readonly [RunOptions, RunOptions]>;
};

function answersOf(ctx: HttpContext): Answers {
  const { retryAfterSeconds, coalesceRepliesMs } = ctx.options;
  const writing: ReplyWriting = {
    retryAfterSeconds,
    // CORS sets its headers through fastify, which the graph's replies do not send through
    hookHeaders: ctx.options.cors !== false,
    ends: new ReplyCoalescer(coalesceRepliesMs),
  };
  const send200 = (reply: FastifyReply, body: unknown) => sendReply(reply, body, 200, writing);
  const streamed = (encoder: StreamEncoder, explicit: boolean): RunOptions => ({
    hasResponder: true,
    sendBody: send200,
    stream: { encoder, explicit },
  });
  return {
    noResponder: {
      hasResponder: false,
      sendBody: (reply, body) => sendReply(reply, body, 202, writing),
      stream: undefined,
    },
    json: { hasResponder: true, sendBody: send200, stream: undefined },
    stream: {
      sse: [streamed(SSE_ENCODER, false), streamed(SSE_ENCODER, true)],
      ndjson: [streamed(NDJSON_ENCODER, false), streamed(NDJSON_ENCODER, true)],
    },
  };
}

const NO_BODY = Buffer.alloc(0);

function handleGraphRequest(ctx: HttpContext, answers: Answers, request: FastifyRequest, reply: FastifyReply): void {
  const { runtime, options } = ctx;
  const res = reply.raw;
  if (res.destroyed) return; // the client went away while its body was read
  if (ctx.draining) {
    // admitted before close() began, but its body arrived after: the graph no longer takes events
    sendError(
      reply,
      new SgError('SG_ERR_SERVER_CLOSED', 'the server is shutting down: no new requests'),
      options.retryAfterSeconds,
    );
    return;
  }
  const state = stateOf(request);
  let init: EventInit;
  try {
    const body = request.body;
    init = eventInitOf(
      request.raw,
      request.originalUrl,
      request.id,
      decodeBody(typeof body === 'string' || body instanceof Buffer ? body : NO_BODY, state.media),
      state.media.type,
      state.arrivedAt,
    );
  } catch (err) {
    sendError(reply, err instanceof SgError ? err : internal(err), options.retryAfterSeconds);
    return;
  }
  // the Accept table (http.md, "The streamed reply"); a graph without a responder answers 202 whatever it says
  if (!runtime.hasResponder) {
    runEvent(ctx, reply, state, init, answers.noResponder);
    return;
  }
  const { format, explicit } = negotiate(request.headers.accept, options.streamFormat);
  runEvent(ctx, reply, state, init, format === 'json' ? answers.json : answers.stream[format][explicit ? 1 : 0]);
}

/** How one request's event is answered: its plain reply, and the stream writer when the reply may stream. */
export type RunOptions = {
  hasResponder: boolean;
  /** send a decided (non-streamed) reply */
  sendBody(reply: FastifyReply, body: unknown): void;
  stream: { encoder: StreamEncoder; explicit: boolean } | undefined;
};

/**
 * Submit the request's event and answer it: the plain reply or error, or a stream; a client that goes away
 * cancels the event's work, and `requestTimeoutMs` bounds the time to the reply (to the first chunk of a stream).
 */
export function runEvent(
  ctx: HttpContext,
  reply: FastifyReply,
  state: RequestState,
  init: EventInit,
  o: RunOptions,
): void {
  const request =
    o.stream === undefined
      ? new GraphRequest(ctx, reply, init.id, o)
      : new StreamedGraphRequest(ctx, reply, init.id, o);
  request.start(state, init);
}

/**
 * One graph request in flight: the sink of its event's reply (one object, no closures), the hooks of its
 * stream writer, and an entry of the server's request timeouts.
 */
class GraphRequest extends DeadlineEntry implements ReplySink, StreamReplyHooks {
  private answered = false;
  private clientGone = false;
  /** the first chunk is out: requestTimeoutMs no longer applies */
  private streamStarted = false;
  private slot: ReplySlot | undefined;
  /** the SSE / NDJSON writer, once the reply streams (at once when Accept named the format) */
  protected stream: StreamReply | undefined;

  constructor(
    protected readonly ctx: HttpContext,
    protected readonly http: FastifyReply,
    protected readonly id: string,
    protected readonly o: RunOptions,
  ) {
    super();
  }

  start(state: RequestState, init: EventInit): void {
    const { runtime, options } = this.ctx;
    // told when the response closes (lifecycle.ts): a disconnect cancels the event, a stream stops writing
    state.graph = this;
    try {
      this.slot = runtime.submit(init, this);
    } catch (err) {
      if (this.settle()) sendError(this.http, internal(err), options.retryAfterSeconds);
      return;
    }
    // fire and forget: answered 202 as soon as accepted; the event's work goes on (graph.md section 3)
    if (!this.o.hasResponder) this.slot.reply({ id: this.id });
    if (this.answered) return;
    const timeoutMs = options.requestTimeoutMs;
    // a stream that has already ended, or started, has no timeout
    if (timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS && !this.streamStarted && !this.http.raw.writableEnded) {
      // counted from arrival: reading the body is part of the time allowed
      this.ctx.deadlines.add(this, state.arrivedAt + timeoutMs);
    }
  }

  // ---- ReplySink ----

  reply(body: unknown): void {
    if (this.stream === undefined) this.plainReply(body);
    else this.stream.reply(body);
  }

  fail(err: SgError): void {
    if (this.stream === undefined) this.plainFail(err);
    else this.stream.fail(err);
  }

  // ---- StreamReplyHooks ----

  plainReply(body: unknown): void {
    if (this.settle()) this.o.sendBody(this.http, body);
  }

  plainFail(err: SgError): void {
    if (!this.o.hasResponder) {
      // a graph without a responder answers 202 whatever happens; its failures are only logged
      this.http.log.warn({ err, code: err.code }, `event ${this.id} failed: ${err.message}`);
      if (this.settle()) this.o.sendBody(this.http, { id: this.id });
      return;
    }
    if (this.settle()) sendError(this.http, err, this.ctx.options.retryAfterSeconds);
  }

  started(): void {
    this.streamStarted = true;
    this.ctx.deadlines.remove(this);
  }

  // ---- the response and the clock ----

  /** The response closed (lifecycle.ts): finished, or cut by the client before the reply, which cancels the event. */
  responseClosed(): void {
    this.ctx.deadlines.remove(this);
    this.stream?.responseClosed();
    if (this.answered || this.http.raw.writableFinished) return;
    this.clientGone = true;
    this.slot?.cancel(
      new SgError('SG_ERR_CLIENT_CLOSED', `the client of request ${this.id} went away before its reply`),
    );
  }

  expire(): void {
    const timeoutMs = this.ctx.options.requestTimeoutMs;
    this.slot?.cancel(
      new SgError('SG_ERR_TIMEOUT', `no reply within requestTimeoutMs (${timeoutMs} ms)`, {
        details: { requestTimeoutMs: timeoutMs },
      }),
    );
  }

  /** The first answer wins: whether this one may still be sent. */
  private settle(): boolean {
    if (this.answered) return false;
    this.answered = true;
    this.ctx.deadlines.remove(this);
    return !this.clientGone && !this.http.sent;
  }

  protected makeStream(): StreamReply {
    const { encoder, explicit } = this.o.stream!;
    const { ctx } = this;
    return new StreamReply(
      this.http,
      this.id,
      encoder,
      explicit,
      ctx.options.heartbeatMs,
      ctx.heartbeats,
      this,
      ctx.options.cors !== false,
    );
  }
}

/**
 * A graph request whose reply may stream: it takes chunks. A client that named SSE or NDJSON gets its writer
 * at once (keep-alive lines may go out before the first chunk); otherwise the writer is made only if the reply
 * turns out to stream, and until then the reply is plain.
 */
class StreamedGraphRequest extends GraphRequest {
  constructor(ctx: HttpContext, http: FastifyReply, id: string, o: RunOptions) {
    super(ctx, http, id, o);
    if (o.stream!.explicit) this.stream = this.makeStream();
  }

  chunk(ev: Event, take: () => void): void {
    this.stream ??= this.makeStream();
    this.stream.chunk(ev, take);
  }

  end(done: StreamDone, ev: Event): void {
    this.stream ??= this.makeStream();
    this.stream.end(done, ev);
  }
}

function internal(err: unknown): SgError {
  return new SgError(
    'SG_ERR_INTERNAL',
    `servegraph failed to handle the request: ${err instanceof Error ? err.message : String(err)}`,
    { cause: err },
  );
}
