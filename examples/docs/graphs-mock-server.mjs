import { setTimeout as sleep } from 'node:timers/promises';
import { createGraph, createMockServer, MapStep } from 'servegraph';

const graph = createGraph();
graph
  .to(
    new MapStep({
      name: 'slow',
      handler: async (ms, ctx) => {
        await sleep(ms, undefined, { signal: ctx.signal }); // aborts when the request is abandoned
        return `slept ${ms} ms`;
      },
    }),
  )
  .respond();

const server = createMockServer(graph, { maxConcurrency: 1, logLevel: 'silent' });
await server.ready();

const first = server.test('/', 20);
const second = server.test('/', 20).catch((err) => err.code); // one event is already in flight
console.log(await first, '|', await second);

const long = server.test('/', 60_000).catch((err) => err.code);
await server.close({ graceMs: 50 }); // waits 50 ms, then fails what is left
console.log(await long);
console.log(await server.test('/', 1).catch((err) => err.code));
