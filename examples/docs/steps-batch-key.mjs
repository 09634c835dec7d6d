import { Batch, createGraph, createMockServer, MapStep } from 'servegraph';

const graph = createGraph();
graph
  .to(new Batch({ name: 'batch', maxEvents: 2, flushAfterSeconds: 0.05, key: 'topic' }))
  .to(
    new MapStep({
      name: 'model',
      fullEvent: true,
      handler: (event) => {
        console.log(`batch of ${event.batch.size} for key ${event.batch.key}`);
        return event.body.map((b) => `${b.topic}: ${b.q}`);
      },
    }),
  )
  .respond();

const server = createMockServer(graph);
const bodies = [
  { topic: 'finance', q: 'rates?' },
  { topic: 'travel', q: 'Paris?' },
  { topic: 'finance', q: 'stocks?' },
  { topic: 'travel', q: 'Rome?' },
];
for (const reply of await Promise.all(bodies.map((b) => server.test('/', b)))) console.log(reply);
await server.close();
