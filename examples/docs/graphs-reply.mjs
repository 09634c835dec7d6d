import { createGraph, createMockServer, Filter, MapStep } from 'servegraph';

// A Filter drops odd numbers: no copy reaches the responder, so the reply is undefined.
const graph = createGraph();
graph
  .to(new Filter({ name: 'even', handler: (n) => n % 2 === 0 }))
  .to(new MapStep({ name: 'half', handler: (n) => n / 2 }))
  .respond();
const server = createMockServer(graph);
console.log(await server.test('/', 8), await server.test('/', 7));
await server.close();

// No responder: test() waits for every copy to finish, then resolves { id }.
const fireAndForget = createGraph();
fireAndForget.to(new MapStep({ name: 'log', handler: (body) => console.log('logged', body) }));
const server2 = createMockServer(fireAndForget);
console.log(await server2.test('/', { n: 1 }, { id: 'req-1' }));
await server2.close();
