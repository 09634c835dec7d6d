import { createGraph, createMockServer, MapStep, SgError } from 'servegraph';

const graph = createGraph();
graph
  .to(
    new MapStep({
      name: 'check',
      handler: (body) => {
        if (typeof body.q !== 'string' || body.q === '') {
          throw new SgError('SG_ERR_BAD_REQUEST', "expected 'q': a non-empty string", { details: { field: 'q' } });
        }
        if (body.tenant === 'acme') throw new SgError('SG_ERR_QUOTA_EXCEEDED', 'tenant acme used its 1000 calls today');
        if (body.q === 'crash') throw new TypeError('something broke');
        return body.q;
      },
    }),
  )
  .respond();

const server = createMockServer(graph, { logLevel: 'silent' });
for (const body of [{ q: '' }, { q: 'hi', tenant: 'acme' }, { q: 'crash' }]) {
  try {
    await server.test('/', body);
  } catch (err) {
    console.log(err instanceof SgError, err.code, err.status, err.step, err.details, err.message);
  }
}
await server.close();

// The JSON form of an error, as an HTTP error body carries it:
console.log(JSON.stringify({ error: new SgError('SG_ERR_BAD_REQUEST', 'bad', { step: 'check' }) }));
