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
let cpuAt;
process.on('SIGUSR2', () => {
  cpuAt = process.cpuUsage();
});
process.once('SIGINT', () => {
  const c = process.cpuUsage(cpuAt);
  console.error(((c.user + c.system) / 1000).toFixed(0));
  process.exit(0);
});
