import { Choice, Collector, createGraph, createMockServer, Filter, FlatMap, MapStep } from 'servegraph';

const graph = createGraph();
const route = graph
  .to(
    new MapStep({
      name: 'numbers',
      handler: async function* (n) {
        for (let i = 1; i <= n; i++) yield i;
      },
    }),
  )
  .to(new Filter({ name: 'odd', handler: (i) => i % 2 === 1 })) // drops chunks
  .to(new FlatMap({ name: 'and-tens', handler: (i) => [i, i * 10] })) // one chunk in, two out
  .to(new Choice({ name: 'route', handler: (i) => (i >= 10 ? 'big' : 'small') })); // each chunk on its own

// each branch collects its share of the stream: the end marker goes to both
for (const branch of ['small', 'big']) {
  route
    .to(new MapStep({ name: branch, handler: (i) => i }))
    .to(new Collector({ name: `collect-${branch}` }))
    .to(new MapStep({ name: `print-${branch}`, handler: (all) => console.log(branch, all) }));
}

const server = createMockServer(graph);
await server.test('/', 5);
await server.close();
