import { createGraph, createMockServer, MapStep } from 'servegraph';

const graph = createGraph();
graph
  .to(new MapStep({ name: 'x2', handler: (x) => x * 2, inputPath: 'x', resultPath: 'y.z' }))
  .to(
    new MapStep({
      name: 'version',
      handler: (v) => v ?? 'none',
      inputPath: ['meta', 'app.version'], // a key that contains a dot
      resultPath: 'v',
    }),
  )
  .respond();

const server = createMockServer(graph);
console.log(await server.test('/', { x: 5 }));
console.log(await server.test('/', { x: 1, meta: { 'app.version': '2.1' } }));
console.log(await server.test('/', 5).catch((err) => err.code)); // a number has no field 'x'
await server.close();
