import { createGraph, createMockServer, FlatMap, MapStep } from 'servegraph';

const graph = createGraph();
graph
  .to(new FlatMap({ name: 'sentences', handler: (text) => text.split('. ') }))
  .to(
    new MapStep({
      name: 'count',
      handler: (sentence) => {
        console.log('count got:', sentence);
        return sentence.split(' ').length;
      },
    }),
  )
  .respond();

const server = createMockServer(graph);
console.log('reply:', await server.test('/', 'One two. Three. Four five six'));
await server.close();
