// A graph module for the command line: its default export is a Graph.
import { createGraph, MapStep } from 'servegraph';

const graph = createGraph({ name: 'double' });
graph.to(new MapStep({ name: 'x2', handler: (x) => x * 2 })).respond();

export default graph;
