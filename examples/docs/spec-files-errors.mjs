import { createMockServer, Graph } from 'servegraph';

// Malformed specs fail at once, with details.path saying where.
const bad = [
  { steps: { clean: { class: 'MapStep', handler: 'trim', fullEvent: 'yes' } } },
  { steps: { clean: { class: 'MapStep', handler: 'trim', retries: 2 } } },
  { engine: 'sync', steps: {} },
];
for (const spec of bad) {
  try {
    Graph.fromSpec(spec);
  } catch (err) {
    console.log(err.code, JSON.stringify(err.details.path), err.message);
  }
}

// References are resolved when a server starts: ready() rejects.
const graph = Graph.fromSpec(
  { steps: { clean: { class: 'MapStep', handler: './nowhere.mjs#clean', responder: true } } },
  { baseDir: import.meta.dirname },
);
const server = createMockServer(graph, { logLevel: 'silent' });
await server.ready().catch((err) => console.log(err.code, err.step, err.details.module));
await server.close();
