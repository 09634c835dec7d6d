import { setTimeout as sleep } from 'node:timers/promises';
import { createGraph, createMockServer, MapStep } from 'servegraph';

let produced = 0;
const graph = createGraph();
graph.setStreaming(true, { maxBufferedChunks: 4 });
graph
  .to(
    new MapStep({
      name: 'numbers',
      handler: async function* (_body, ctx) {
        try {
          for (let i = 0; ; i++) {
            produced++;
            yield i;
          }
        } finally {
          // the signal aborts before the generator is closed
          console.log('finally: aborted =', ctx.signal.aborted, ctx.signal.reason.code);
        }
      },
    }),
  )
  .respond();

const server = createMockServer(graph);
for await (const n of server.testStream('/', null)) {
  console.log('chunk', n);
  if (n === 0) {
    await sleep(20); // a slow consumer: the producer waits for it
    console.log('produced so far:', produced);
  }
  if (n === 2) break; // leaving the loop cancels the stream
}
await server.close();
