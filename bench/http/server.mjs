// One side of the HTTP benchmark, in a process of its own so the load generator does not share its event loop:
//   node bench/http/server.mjs <fastify|servegraph|fastify-sse|servegraph-sse>
// Prints the URL on stdout, then serves until killed. Logging is off on every side.
import Fastify from 'fastify';
import { createGraph, MapStep, serve } from '../../dist/index.js';

const kind = process.argv[2];
const CHUNKS = 100;

async function bareFastify(sse) {
  const app = Fastify({ logger: false });
  if (!sse) {
    // the same JSON echo as the one-step graph: parse the body, send it back as JSON
    app.post('/', async (request) => request.body);
  } else {
    // raw SSE: the same 100 chunk events and the done event servegraph writes, each written at once
    app.post('/', (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.socket?.setNoDelay(true);
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
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
  else {
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

const url =
  kind === 'fastify'
    ? await bareFastify(false)
    : kind === 'fastify-sse'
      ? await bareFastify(true)
      : kind === 'servegraph'
        ? await servegraph(false)
        : kind === 'servegraph-sse'
          ? await servegraph(true)
          : undefined;
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
