import { createGraph, createMockServer, Filter, MapStep } from 'servegraph';

const graph = createGraph();
graph
  .to(new Filter({ name: 'adults', handler: (age) => age >= 18, inputPath: 'age' }))
  .to(new MapStep({ name: 'welcome', handler: (body) => `welcome, ${body.name}` }))
  .respond();

const server = createMockServer(graph);
console.log(await server.test('/', { name: 'Ann', age: 34 }));
console.log(await server.test('/', { name: 'Tim', age: 9 })); // dropped: no reply
await server.close();
