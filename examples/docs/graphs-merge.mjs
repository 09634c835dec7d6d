import { setTimeout as sleep } from 'node:timers/promises';
import { createGraph, createMockServer, MapStep } from 'servegraph';

const graph = createGraph();
let mergeCalls = 0;
const a = graph.to(new MapStep({ name: 'a', handler: (body) => ({ ...body, a: 1 }) }));
const slow = a.to(
  new MapStep({
    name: 'slow',
    handler: async (body) => {
      await sleep(20);
      return { ...body, via: 'slow' };
    },
  }),
);
const fast = a.to(new MapStep({ name: 'fast', handler: (body) => ({ ...body, via: 'fast' }) }));
const merge = slow.to(
  new MapStep({
    name: 'merge',
    handler: (body) => {
      mergeCalls++;
      return body;
    },
  }),
);
fast.to(merge); // merge now runs after slow and after fast
merge.respond();

const server = createMockServer(graph);
console.log(await server.test('/', {})); // the first copy to arrive answers
await server.close(); // waits for the slow copy
console.log(`merge ran ${mergeCalls} times`);
