import { setTimeout as sleep } from 'node:timers/promises';
import { createGraph, createMockServer, MapStep } from 'servegraph';

// Stands in for a remote call; it stops when the request is abandoned.
async function countChars(text, signal) {
  await sleep(5, undefined, { signal });
  return text.length;
}

const graph = createGraph({ baseDir: import.meta.dirname }); // where './lib/…' references resolve
graph
  .to(new MapStep({ name: 'trim', handler: (text) => text.trim() }))
  .to(new MapStep({ name: 'upper', handler: './lib/text.mjs#upper' })) // imported when the server starts
  .to(
    new MapStep({
      name: 'measure',
      handler: async (text, ctx) => ({ text, length: await countChars(text, ctx.signal), id: ctx.event.id }),
    }),
  )
  .respond();

const server = createMockServer(graph);
console.log(await server.test('/', '  hello ', { id: 'req-1' }));
await server.close();
