import { createGraph, createMockServer, MapStep } from 'servegraph';

const graph = createGraph({ name: 'greet' });
graph
  .to(new MapStep({ name: 'clean', handler: (body) => ({ ...body, name: body.name.trim() }) }))
  .to(new MapStep({ name: 'greet', handler: (body) => `Hello, ${body.name}!` }))
  .respond();

const server = createMockServer(graph);
console.log(await server.test('/', { name: '  Ada ' }));
await server.close();
