import { createGraph, createMockServer, MapStep } from 'servegraph';

const graph = createGraph();
graph.add(new MapStep({ name: 'double', handler: (n) => n * 2 }));
graph.add(new MapStep({ name: 'square', handler: (n) => n * n }), { after: '$prev' }); // double -> square
graph.add(new MapStep({ name: 'inc', handler: (n) => n + 1 }), { before: 'double' }); // inc -> double -> square
graph.steps.get('square').respond();

const server = createMockServer(graph);
console.log(await server.test('/', 3)); // (3 + 1) * 2, squared
await server.close();
