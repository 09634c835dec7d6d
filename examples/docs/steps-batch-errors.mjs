import { Batch, createGraph, createMockServer, MapStep, SgError } from 'servegraph';

const graph = createGraph();
graph
  .to(new Batch({ name: 'batch', maxEvents: 3, flushAfterSeconds: 0.05 }))
  .to(
    new MapStep({
      name: 'sqrt',
      handler: (xs) => {
        if (xs.includes(0)) throw new Error('zero is not allowed'); // fails the whole batch
        return xs.map((x) => (x < 0 ? new SgError('SG_ERR_BAD_REQUEST', `${x} is negative`) : Math.sqrt(x)));
      },
    }),
  )
  .respond();

const server = createMockServer(graph);
const send = (x) => server.test('/', x).catch((err) => `${err.code}: ${err.message}`);
// one item fails, the others succeed
for (const r of await Promise.all([4, -1, 9].map(send))) console.log(r);
// the step throws: every member fails
for (const r of await Promise.all([16, 0, 25].map(send))) console.log(r);
await server.close();
