import { Collector, createGraph, createMockServer, MapStep } from 'servegraph';

let calls = 0;
const graph = createGraph();
graph
  .to(
    new MapStep({
      name: 'words',
      handler: async function* (text) {
        yield* text.split(' ');
      },
      collect: (chunks) => chunks.join('|'), // how this step merges its own stream
    }),
  )
  .to(
    new MapStep({
      name: 'shout',
      handler: (text) => {
        calls++;
        return text.toUpperCase();
      },
    }),
  )
  .to(new Collector({ name: 'collect' }))
  .respond();

for (const enabled of [true, false]) {
  graph.setStreaming(enabled); // read when a server is created
  calls = 0;
  const server = createMockServer(graph);
  const items = [];
  for await (const item of server.testStream('/', 'a b c')) items.push(item);
  console.log(`streaming ${graph.streaming}:`, items, `shout ran ${calls} time(s)`);
  await server.close();
}
