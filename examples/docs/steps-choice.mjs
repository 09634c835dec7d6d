import { Choice, createGraph, createMockServer, MapStep } from 'servegraph';

const graph = createGraph();
const reply = new MapStep({ name: 'reply', handler: (body) => body });
const route = graph.to(
  new Choice({
    name: 'route',
    handler: (body) => (body.lang === 'fr' ? 'french' : body.lang === 'en' ? 'english' : []),
  }),
);
route.to(new MapStep({ name: 'french', handler: (body) => ({ ...body, text: 'bonjour' }) })).to(reply);
route.to(new MapStep({ name: 'english', handler: (body) => ({ ...body, text: 'hello' }) })).to(reply);
reply.respond();

const server = createMockServer(graph);
console.log(await server.test('/', { lang: 'fr' }));
console.log(await server.test('/', { lang: 'en' }));
console.log(await server.test('/', { lang: 'de' })); // [] drops the event
await server.close();
