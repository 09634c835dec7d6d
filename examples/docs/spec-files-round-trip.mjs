import { createGraph, createMockServer, Graph, MapStep, registerClass } from 'servegraph';

const double = (x) => x * 2;
registerClass('double', double);

const graph = createGraph({ name: 'doubler' });
graph.to(new MapStep({ name: 'x2', handler: double, inputPath: 'x', resultPath: 'y' })).respond();

const spec = graph.toSpec(); // the registered function is written by its name
console.log(JSON.stringify(spec));

const copy = Graph.fromSpec(JSON.parse(JSON.stringify(spec)));
const server = createMockServer(copy);
console.log(await server.test('/', { x: 21 }));
await server.close();

// an in-memory function that is not registered cannot be written
const inline = createGraph();
inline.to(new MapStep({ name: 'anon', handler: (x) => x }));
try {
  inline.toSpec();
} catch (err) {
  console.log(err.code, err.step);
}
