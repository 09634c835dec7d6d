import { createGraph, createMockServer, MapStep } from 'servegraph';

const graph = createGraph();
const source = graph.to(new MapStep({ name: 'source', handler: (body) => body }));
source
  .to(
    new MapStep({
      name: 'tag',
      handler: (body) => {
        body.tagged = true; // changes this branch's body only
        return body;
      },
    }),
  )
  .respond();
source.to(new MapStep({ name: 'audit', handler: (body) => console.log('audit saw', body) }));

const server = createMockServer(graph);
console.log('reply', await server.test('/', { text: 'hi' }));
await server.close();
