import { Batch, createGraph, createMockServer, MapStep } from 'servegraph';

const graph = createGraph();
graph
  .to(new Batch({ name: 'batch', maxEvents: 3, flushAfterSeconds: 0.05 }))
  .to(
    new MapStep({
      name: 'double',
      handler: (xs, ctx) => {
        console.log(`one call for ${ctx.event.batch.size}:`, xs);
        return xs.map((x) => x * 2);
      },
    }),
  )
  .respond(); // the responder splits the batch: item i answers request i

const server = createMockServer(graph);
console.log(await Promise.all([1, 2, 3, 4].map((x) => server.test('/', x))));
await server.close();
