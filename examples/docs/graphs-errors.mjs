import { createGraph, createMockServer, MapStep, SgError } from 'servegraph';

const graph = createGraph();
const parse = graph.to(
  new MapStep({
    name: 'parse',
    handler: (body) => {
      if (typeof body.n !== 'number') throw new Error('n must be a number');
      return body;
    },
  }),
);
// fallback takes parse's failures; 'answer' runs after parse, or after fallback
parse.errorHandler(
  new MapStep({
    name: 'fallback',
    fullEvent: true,
    handler: (event) => ({ n: 0, note: `${event.originStep}: ${event.error.code}` }),
  }),
  { before: 'answer' },
);
parse
  .to(
    new MapStep({
      name: 'answer',
      handler: (body) => {
        if (body.n < 0) throw new SgError('SG_ERR_BAD_REQUEST', 'n must be >= 0', { details: { field: 'n' } });
        return { ...body, sqrt: Math.sqrt(body.n) };
      },
    }),
  )
  .respond();
// used for any failing step without a handler of its own; it answers in the responder's place
graph.errorHandler(
  new MapStep({
    name: 'last-resort',
    fullEvent: true,
    handler: (event) => ({ error: event.error.code, step: event.originStep }),
  }),
);

const server = createMockServer(graph);
console.log(await server.test('/', { n: 4 }));
console.log(await server.test('/', { n: 'four' }));
console.log(await server.test('/', { n: -1 }));
await server.close();
