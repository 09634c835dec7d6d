import { createGraph, createMockServer, MapStep } from 'servegraph';

const graph = createGraph();
graph
  .to(
    new MapStep({
      name: 'who',
      fullEvent: true,
      handler: (event) => {
        event.meta.user = event.headers['x-user']; // meta travels with the event
        return event; // an Event continues as it is
      },
    }),
  )
  .to(
    new MapStep({
      name: 'answer',
      fullEvent: true,
      // any other value becomes the body
      handler: (event) => ({ id: event.id, path: event.path, user: event.meta.user, q: event.body.q }),
    }),
  )
  .respond();

const server = createMockServer(graph);
console.log(await server.test('/ask', { q: 'hi' }, { id: 'req-7', headers: { 'X-User': 'ann' } }));
await server.close();
