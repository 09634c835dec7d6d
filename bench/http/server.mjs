// One side of the HTTP benchmark, in a process of its own so the load generator does not share its event loop:
//   node bench/http/server.mjs <fastify|servegraph|servegraph-immediate|fastify-sse|servegraph-sse|fastify-sse-turns|
//                               servegraph-sse-turns|fastify-as-servegraph>
// (servegraph-immediate: coalesceRepliesMs 0, each reply written as soon as it is decided)
// Prints the URL on stdout, then serves until killed. Logging is off on every side.
import { METHODS } from 'node:http';
import Fastify, { LogController } from 'fastify';
import { createGraph, MapStep, serve } from '../../dist/index.js';
import { newUuid } from '../../dist/util/uuid.js';

const kind = process.argv[2];
const CHUNKS = 100;
/** chunks of a stream that yields one per event-loop turn */
const TURN_CHUNKS = 20;
/** the producer of the one-chunk-per-turn streams, the same on both sides */
async function* oneChunkPerTurn() {
  for (let i = 0; i < TURN_CHUNKS; i++) {
    await new Promise((r) => setImmediate(r));
    yield i;
  }
}
const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

async function bareFastify(sse) {
  const app = Fastify({ logger: false });
  if (!sse) {
    // the same JSON echo as the one-step graph: parse the body, send it back as JSON
    app.post('/', async (request) => request.body);
  } else if (sse === 'turns') {
    // raw SSE from the same producer as servegraph's (one chunk per event-loop turn, as tokens arriving from a
    // model), each chunk written as it comes
    app.post('/', async (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.socket?.setNoDelay(true);
      res.writeHead(200, SSE_HEADERS);
      let i = 0;
      for await (const chunk of oneChunkPerTurn()) res.write(`event: chunk\nid: ${i++}\ndata: ${chunk}\n\n`);
      res.end(`event: done\ndata: ${JSON.stringify({ id: request.id, chunks: i })}\n\n`);
    });
  } else {
    // raw SSE: the same 100 chunk events and the done event servegraph writes, each written at once
    app.post('/', (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.socket?.setNoDelay(true);
      res.writeHead(200, SSE_HEADERS);
      for (let i = 0; i < CHUNKS; i++) res.write(`event: chunk\nid: ${i}\ndata: ${i}\n\n`);
      res.end(`event: done\ndata: ${JSON.stringify({ id: request.id, chunks: CHUNKS })}\n\n`);
    });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${app.server.address().port}`;
}

/**
 * Bare fastify configured as servegraph's HTTP layer configures it, answering the JSON echo with the same bytes,
 * but without servegraph's own work per request (request state, admission, metrics, the event, the engine, the
 * accounting when the response closes): its options (request ids, URL rewriting, request logging off), every
 * method on '/*' beside the reserved routes, its body parsers, one onRequest hook per route adding a response
 * 'close' listener (both with empty bodies), the reply written directly with X-Request-Id. Between
 * `fastify` and `servegraph`, it tells the configuration's share of the gap from servegraph's work (paired.mjs
 * --cases=decompose). A copy by hand of what `buildFastify` (src/server/http/serve.ts) sets up: change both together.
 */
async function fastifyAsServegraph() {
  const app = Fastify({
    logger: false,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: newUuid,
    rewriteUrl: (req) => req.url ?? '/',
    exposeHeadRoutes: false,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
  });
  const methods = METHODS.filter((m) => m !== 'CONNECT');
  const supported = new Set(app.supportedMethods);
  for (const m of methods) if (!supported.has(m)) app.addHttpMethod(m, { hasBody: m !== 'HEAD' && m !== 'TRACE' });
  app.addHttpMethod('GET', { hasBody: true, overrideExisting: true });
  app.decorateRequest('servegraphState', null);
  const onClose = () => {};
  // each route's one onRequest hook, where servegraph enters the request (lifecycle.ts): the close listener
  const enter = (_request, reply, done) => {
    reply.raw.on('close', onClose);
    done();
  };
  app.removeAllContentTypeParsers();
  const asIs = (_request, body, done) => done(null, body);
  app.addContentTypeParser(/^application\/json$/, { parseAs: 'string' }, asIs);
  app.addContentTypeParser('*', { parseAs: 'buffer' }, asIs);
  for (const url of ['/healthz', '/readyz', '/metrics', '/endpoints', '/endpoints/:name/stats', '/dashboard']) {
    app.route({ method: methods, url, onRequest: enter, handler: (_request, reply) => reply.send({}) });
  }
  app.route({
    method: methods,
    url: '/*',
    onRequest: enter,
    handler: (request, reply) => {
      const json = JSON.stringify(JSON.parse(request.body));
      reply.hijack();
      reply.raw.writeHead(200, [
        'content-type',
        'application/json; charset=utf-8',
        'content-length',
        String(Buffer.byteLength(json)),
        'x-request-id',
        request.id,
      ]);
      reply.raw.end(json);
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${app.server.address().port}`;
}

async function servegraph(sse, options = {}) {
  const graph = createGraph({ name: sse ? 'bench-sse' : 'bench-echo' });
  if (!sse) graph.to(new MapStep({ name: 'echo', handler: (body) => body })).respond();
  else if (sse === 'turns') {
    graph.to(new MapStep({ name: 'chunks', handler: oneChunkPerTurn })).respond();
  } else {
    graph
      .to(
        new MapStep({
          name: 'chunks',
          handler: function* () {
            for (let i = 0; i < CHUNKS; i++) yield i;
          },
        }),
      )
      .respond();
  }
  const app = await serve(graph, { port: 0, logger: false, maxConcurrency: 0, openai: false, ...options });
  return app.url;
}

const SIDES = {
  fastify: () => bareFastify(false),
  'fastify-sse': () => bareFastify(true),
  'fastify-sse-turns': () => bareFastify('turns'),
  'fastify-as-servegraph': fastifyAsServegraph,
  servegraph: () => servegraph(false),
  'servegraph-immediate': () => servegraph(false, { coalesceRepliesMs: 0 }),
  'servegraph-sse': () => servegraph(true),
  'servegraph-sse-turns': () => servegraph('turns'),
};
const url = Object.hasOwn(SIDES, kind) ? await SIDES[kind]() : undefined;
if (url === undefined) {
  console.error(`unknown side '${kind}'`);
  process.exit(2);
}
console.log(url);
// SIGUSR2 starts a CPU-time measurement, SIGINT prints it (ms, to stderr) and exits normally (so that
// --cpu-prof can write its profile)
// with SG_HTTP_PROFILE=<file>, a CPU profile of the same window is written there (bench/http/cpu.mjs --profile)
const profileTo = process.env.SG_HTTP_PROFILE;
const session = profileTo === undefined ? undefined : new (await import('node:inspector')).Session();
const post = (method, params) =>
  new Promise((resolve, reject) => session.post(method, params, (err, r) => (err ? reject(err) : resolve(r))));
if (session !== undefined) {
  session.connect();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 }); // µs: ten times V8's default
}
let cpuAt;
process.on('SIGUSR2', () => {
  cpuAt = process.cpuUsage();
  if (session !== undefined) void post('Profiler.start');
});
process.once('SIGINT', async () => {
  const c = process.cpuUsage(cpuAt);
  if (session !== undefined) {
    const { profile } = await post('Profiler.stop');
    (await import('node:fs')).writeFileSync(profileTo, JSON.stringify(profile));
  }
  console.error(
    `${((c.user + c.system) / 1000).toFixed(0)} ${(c.user / 1000).toFixed(0)} ${(c.system / 1000).toFixed(0)}`,
  );
  process.exit(0);
});
