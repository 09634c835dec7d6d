import { createMockServer, Graph } from 'servegraph';

const graph = Graph.fromFile(`${import.meta.dirname}/spec/greet.yaml`);
console.log(graph.name, [...graph.steps.keys()]);

const server = createMockServer(graph);
console.log(await server.test('/', { name: ' Ada ' }));
console.log(await server.test('/', { name: '  ' })); // dropped by not-empty
console.log(await server.test('/', { nom: 'Ada' })); // answered by last-resort
await server.close();
