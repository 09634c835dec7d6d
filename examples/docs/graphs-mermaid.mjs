import { createGraph, MapStep } from 'servegraph';

const graph = createGraph();
const clean = graph.to(new MapStep({ name: 'clean', handler: (b) => b }));
clean.errorHandler(new MapStep({ name: 'bad-request', fullEvent: true, handler: (e) => e.error.message }));
clean.to(new MapStep({ name: 'reply', handler: (b) => b })).respond();

console.log(graph.toMermaid());
