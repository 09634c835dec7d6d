import { type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { type ResolvedOptions, resolveOptions, type TestServerOptions, validateOptions } from './options.js';
import { type Exchange, parseBody, type RecordedRequest, Recorder } from './recorder.js';

/** A running test server (llm.md section 5). */
export type TestServer = {
  /** what a provider is given: the OpenAI server's base URL (ending in `/v1`), or the TGI server's root */
  readonly url: string;
  /** the live array of recorded requests, in arrival order */
  readonly requests: RecordedRequest[];
  /** Resolves once the server is closed; open connections, stalled streams included, are destroyed. */
  close(): Promise<void>;
};

/** One generation request, ready to be answered: its exchange, its options, its parsed body. */
export type Call = {
  readonly ex: Exchange;
  readonly res: ServerResponse;
  readonly opts: ResolvedOptions;
  readonly body: unknown;
  /** 0-based, counting the server's generation requests */
  readonly index: number;
};

/** How a protocol shapes its errors and answers its generation routes. */
export type Protocol = {
  /** what the returned `url` adds to the server's root, e.g. '/v1' */
  urlSuffix: string;
  errorBody(status: number, message: string): unknown;
  /** generation routes: method, path, and the answer (called after `delayMs`, with a non-error status) */
  routes: { method: 'GET' | 'POST'; path: string; answer: (call: Call) => Promise<void> | void }[];
  /** plain routes, recorded but deaf to the options and the status script (e.g. GET /v1/models) */
  extra?: (app: FastifyInstance) => void;
  /** whether a generation request asks for a stream (for `rawBody`) */
  isStream(body: unknown, path: string): boolean;
};

const MAX_TIMER_MS = 2_147_483_647;

/** Resolves true after `ms`, or false as soon as `signal` fires; `Infinity` waits for the signal only. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = ms > MAX_TIMER_MS ? undefined : setTimeout(() => done(true), ms);
    const onAbort = () => done(false);
    const done = (ok: boolean) => {
      if (timer !== undefined) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Writes `chunk` and resolves once it is handed to the socket (or the exchange is gone). */
function write(res: ServerResponse, signal: AbortSignal, chunk: string): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || res.destroyed) return resolve();
    const onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    res.write(chunk, () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/** Sends a whole JSON (or raw) body with the option headers. */
export function sendJson(call: Call, status: number, body: unknown, raw = false): void {
  const { res, ex, opts } = call;
  if (ex.signal.aborted || res.destroyed) return;
  const text = raw ? String(body) : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...opts.headers,
  });
  res.end(text);
}

/**
 * Streams `events` as SSE bodies (`data: …\n\n` each), honouring `chunkDelayMs` between two events and
 * `cutAfterChunks`; stops at once when the client goes away.
 */
export async function sendSse(call: Call, events: string[]): Promise<void> {
  const { res, ex, opts } = call;
  if (ex.signal.aborted || res.destroyed) return;
  res.writeHead(call.opts.status, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...opts.headers,
  });
  res.flushHeaders();
  for (let i = 0; i < events.length; i++) {
    if (opts.cutAfterChunks !== undefined && i >= opts.cutAfterChunks) return ex.cut();
    if (i > 0 && !(await sleep(opts.chunkDelayMs, ex.signal))) return;
    if (ex.signal.aborted) return;
    await write(res, ex.signal, `data: ${events[i]}\n\n`);
  }
  if (!ex.signal.aborted) res.end();
}

function errorMessage(status: number, reason: string): string {
  return `servegraph test server: ${reason} (status ${status})`;
}

async function handle(
  protocol: Protocol,
  options: TestServerOptions,
  ex: Exchange,
  res: ServerResponse,
  index: number,
  answer: (call: Call) => Promise<void> | void,
): Promise<void> {
  const body = ex.entry.body;
  let opts: ResolvedOptions;
  try {
    opts = resolveOptions(options, ex.entry, index);
  } catch (err) {
    const call: Call = { ex, res, body, index, opts: resolveOptions({}, ex.entry, index) };
    return sendJson(call, 500, protocol.errorBody(500, errorMessage(500, (err as Error).message)));
  }
  const call: Call = { ex, res, opts, body, index };
  if (!(await sleep(opts.delayMs, ex.signal))) return;
  if (opts.rawBody !== undefined) {
    if (!protocol.isStream(body, ex.entry.path)) return sendJson(call, opts.status, opts.rawBody, true);
    if (ex.signal.aborted) return;
    res.writeHead(opts.status, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...opts.headers });
    res.end(opts.rawBody);
    return;
  }
  if (opts.status >= 400) {
    const message = errorMessage(opts.status, `scripted error: ${STATUS_CODES[opts.status] ?? 'error'}`);
    return sendJson(call, opts.status, protocol.errorBody(opts.status, message));
  }
  await answer(call);
}

/** Starts a fastify server on 127.0.0.1, port 0, speaking `protocol` (llm.md section 5). */
export async function startTestServer(protocol: Protocol, options: unknown, where: string): Promise<TestServer> {
  validateOptions(options, where);
  const opts = (options ?? {}) as TestServerOptions;
  const recorder = new Recorder();
  const app = Fastify({ logger: false, forceCloseConnections: true });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, raw, done) => done(null, parseBody(raw as string)));
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    recorder.track(request.raw, reply.raw);
  });
  let generated = 0;
  for (const route of protocol.routes) {
    app.route({
      method: route.method,
      url: route.path,
      handler: async (request, reply) => {
        const ex = recorder.exchange(request.raw, reply.raw, request.body);
        reply.hijack();
        const index = generated++;
        try {
          await handle(protocol, opts, ex, reply.raw, index, route.answer);
        } catch (err) {
          if (!reply.raw.headersSent && !ex.signal.aborted) {
            const message = errorMessage(500, (err as Error).message);
            reply.raw.writeHead(500, { 'content-type': 'application/json' });
            reply.raw.end(JSON.stringify(protocol.errorBody(500, message)));
          } else ex.cut();
        }
      },
    });
  }
  protocol.extra?.(app);
  app.setNotFoundHandler(async (request, reply) => {
    recorder.exchange(request.raw, reply.raw, request.body);
    const message = errorMessage(404, `no route ${request.method} ${request.url.split('?')[0]}`);
    return reply.code(404).send(protocol.errorBody(404, message));
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}${protocol.urlSuffix}`,
    requests: recorder.requests,
    close: () => {
      if (!closed) {
        recorder.markClosing();
        closed = app.close();
      }
      return closed;
    },
  };
}
