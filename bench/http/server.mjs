// One side of the HTTP benchmark, in a process of its own so the load generator does not share its event loop:
//   node bench/http/server.mjs <fastify|servegraph|fastify-sse|servegraph-sse|fastify-sse-turns|servegraph-sse-turns>
// Prints the URL on stdout, then serves until killed. Logging is off on every side.
import Fastify from 'fastify';
import { createGraph, MapStep, serve } from '../../dist/index.js';

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

async function servegraph(sse) {
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
  const app = await serve(graph, { port: 0, logger: false, maxConcurrency: 0, openai: false });
  return app.url;
}

const SIDES = {
  fastify: () => bareFastify(false),
  'fastify-sse': () => bareFastify(true),
  'fastify-sse-turns': () => bareFastify('turns'),
  servegraph: () => servegraph(false),
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
