import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EventInit } from '../../engine/event.js';
import type { ReplySink } from '../../engine/owner.js';
import type { ReplySlot } from '../../engine/reply-slot.js';
import { SgError } from '../../errors/index.js';
import { decodeBody } from './body.js';
import type { HttpContext } from './context.js';
import { sendError } from './errors.js';
import { MAX_TIMER_MS } from './options.js';
import { sendReply } from './reply.js';
import { stateOf } from './request-state.js';
import { eventInitOf } from './request-to-event.js';
import { NDJSON_ENCODER, negotiate, SSE_ENCODER, type StreamEncoder, StreamReply } from './stream-reply.js';

/**
 * Every method and path that no reserved route takes goes to the graph (http.md, "Routes"): admission at
 * arrival (readiness, draining, maxConcurrency) before the body is read, then one event per request.
 */
export function installGraphRoute(fastify: FastifyInstance, ctx: HttpContext, methods: string[]): void {
  fastify.route({
    method: methods,
    url: '/*',
    onRequest: admission(ctx),
    handler: (request, reply) => {
      handleGraphRequest(ctx, request, reply);
    },
  });
}

/** The route hook that admits a graph request at arrival, before its body is read (503, 429 otherwise). */
export function admission(
  ctx: HttpContext,
): (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void {
  return (_request, reply, done) => {
    try {
      admit(ctx, reply);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  };
}

/** Count the request in flight until its response ends, or refuse it at once (503, 429). */
export function admit(ctx: HttpContext, reply: FastifyReply): void {
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
  let left = false;
  const leave = (): void => {
    if (left) return;
    left = true;
    runtime.leave();
  };
  // a response always closes, after it finishes or when the client cuts it
  stateOf(reply.request).onClose.push(leave);
}

function handleGraphRequest(ctx: HttpContext, request: FastifyRequest, reply: FastifyReply): void {
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
  let init: ReturnType<typeof eventInitOf>;
  try {
    const bytes = request.body instanceof Buffer ? request.body : Buffer.alloc(0);
    init = eventInitOf(
      request.raw,
      request.originalUrl,
      request.id,
      decodeBody(bytes, state.media),
      state.media.type,
      state.arrivedAt,
    );
  } catch (err) {
    sendError(reply, err instanceof SgError ? err : internal(err), options.retryAfterSeconds);
    return;
  }

  const hasResponder = runtime.hasResponder;
  // the Accept table (http.md, "The streamed reply"); a graph without a responder answers 202 whatever it says
  const wire = hasResponder ? negotiate(request.headers.accept, options.streamFormat) : undefined;
  runEvent(ctx, reply, init, {
    hasResponder,
    sendBody: (body) => sendReply(reply, body, hasResponder ? 200 : 202, options.retryAfterSeconds),
    stream:
      wire === undefined || wire.format === 'json'
        ? undefined
        : { encoder: wire.format === 'sse' ? SSE_ENCODER : NDJSON_ENCODER, explicit: wire.explicit },
  });
}

/** How one request's event is answered: its plain reply, and the stream writer when the reply may stream. */
export type RunOptions = {
  hasResponder: boolean;
  /** send a decided (non-streamed) reply */
  sendBody(body: unknown): void;
  stream: { encoder: StreamEncoder; explicit: boolean } | undefined;
};

/**
 * Submit the request's event and answer it: the plain reply or error, or a stream; a client that goes away
 * cancels the event's work, and `requestTimeoutMs` bounds the time to the reply (to the first chunk of a stream).
 */
export function runEvent(ctx: HttpContext, reply: FastifyReply, init: EventInit, o: RunOptions): void {
  const { runtime, options } = ctx;
  const res = reply.raw;
  const state = stateOf(reply.request);
  let answered = false;
  let clientGone = false;
  let timer: NodeJS.Timeout | undefined;
  const settle = (): boolean => {
    if (answered) return false;
    answered = true;
    if (timer !== undefined) clearTimeout(timer);
    return !clientGone && !reply.sent;
  };

  const failPlain = (err: SgError): void => {
    if (!o.hasResponder) {
      // a graph without a responder answers 202 whatever happens; its failures are only logged
      reply.log.warn({ err, code: err.code }, `event ${init.id} failed: ${err.message}`);
      if (settle()) o.sendBody({ id: init.id });
      return;
    }
    if (settle()) sendError(reply, err, options.retryAfterSeconds);
  };
  const replyPlain = (body: unknown): void => {
    if (settle()) o.sendBody(body);
  };
  const wire = o.stream;
  const makeStream = (): StreamReply =>
    new StreamReply(reply, init.id, wire!.encoder, wire!.explicit, options.heartbeatMs, {
      plainReply: replyPlain,
      plainFail: failPlain,
      // requestTimeoutMs counts to the first chunk of a stream
      started: () => {
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
      },
    });
  // a client that named SSE or NDJSON gets its writer at once (keep-alive lines may go out before the first
  // chunk); otherwise the writer is made only if the reply turns out to stream: most replies do not
  const sink: ReplySink =
    wire === undefined
      ? { reply: replyPlain, fail: failPlain }
      : wire.explicit
        ? makeStream()
        : lazyStreamSink(makeStream, replyPlain, failPlain);

  let slot: ReplySlot;
  try {
    slot = runtime.submit(init, sink);
  } catch (err) {
    if (settle()) sendError(reply, internal(err), options.retryAfterSeconds);
    return;
  }
  // fire and forget: answered 202 as soon as accepted; the event's work goes on (graph.md section 3)
  if (!o.hasResponder) slot.reply({ id: init.id });
  if (answered) return;

  state.onClose.push(() => {
    if (timer !== undefined) clearTimeout(timer);
    if (answered || res.writableFinished) return;
    clientGone = true;
    slot.cancel(new SgError('SG_ERR_CLIENT_CLOSED', `the client of request ${init.id} went away before its reply`));
  });
  const timeoutMs = options.requestTimeoutMs;
  if (timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS) {
    // counted from arrival: reading the body is part of the time allowed
    const remainingMs = Math.max(0, timeoutMs - (Date.now() - state.arrivedAt));
    if (res.writableEnded) return; // a stream that has already ended
    timer = setTimeout(() => {
      slot.cancel(
        new SgError('SG_ERR_TIMEOUT', `no reply within requestTimeoutMs (${timeoutMs} ms)`, {
          details: { requestTimeoutMs: timeoutMs },
        }),
      );
    }, remainingMs);
    timer.unref();
  }
}

/** A sink that answers plainly until the first chunk or end marker, then hands over to a stream writer. */
function lazyStreamSink(
  make: () => StreamReply,
  reply: (body: unknown) => void,
  fail: (err: SgError) => void,
): ReplySink {
  let stream: StreamReply | undefined;
  return {
    reply: (body) => (stream === undefined ? reply(body) : stream.reply(body)),
    fail: (err) => (stream === undefined ? fail(err) : stream.fail(err)),
    chunk: (ev, take) => {
      stream ??= make();
      stream.chunk(ev, take);
    },
    end: (done, ev) => {
      stream ??= make();
      stream.end(done, ev);
    },
  };
}

function internal(err: unknown): SgError {
  return new SgError(
    'SG_ERR_INTERNAL',
    `servegraph failed to handle the request: ${err instanceof Error ? err.message : String(err)}`,
    { cause: err },
  );
}
