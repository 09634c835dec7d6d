import { createGraph, MapStep, serve } from 'servegraph';

const graph = createGraph();
graph.to(new MapStep({ name: 'greet', handler: (body) => ({ greeting: `Hello, ${body.name}!` }) })).respond();

const app = await serve(graph, { port: 0, logger: false }); // port 0: any free port
const post = (body) => fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

const ok = await post(JSON.stringify({ name: 'Ada' }));
console.log(ok.status, await ok.json());
const bad = await post('{"name":');
console.log(bad.status, (await bad.json()).error.code);
await app.close();
