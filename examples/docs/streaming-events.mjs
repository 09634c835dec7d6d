import { createGraph, createMockServer, MapStep } from 'servegraph';

const graph = createGraph();
graph
  .to(
    new MapStep({
      name: 'count',
      handler: async function* (n) {
        for (let i = 1; i <= n; i++) yield i;
        return 'counted'; // not a plain object: it goes under `result`
      },
    }),
  )
  .respond();

const server = createMockServer(graph);
// fullEvent: the chunk events themselves, then the end marker
for await (const event of server.testStream('/', 2, { id: 'req-2', fullEvent: true })) {
  const { seq, last, step } = event.stream;
  console.log({ id: event.id, body: event.body, seq, last, step });
}
await server.close();
