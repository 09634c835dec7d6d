import { Collector, createGraph, createMockServer, MapStep } from 'servegraph';

const flaky = () =>
  new MapStep({
    name: 'flaky',
    handler: async function* (n) {
      for (let i = 0; i < n; i++) yield i;
      throw new Error('connection lost');
    },
  });

// 1. chunks reached the consumer: the loop throws after the last chunk received
const graph = createGraph();
graph.to(flaky()).respond();
const server = createMockServer(graph, { logLevel: 'silent' });
try {
  for await (const chunk of server.testStream('/', 2)) console.log('chunk:', chunk);
} catch (err) {
  console.log('failed:', err.code, err.step, err.message);
}

// 2. no chunk yet: an ordinary failure, which the step's error handler answers
const fallback = new MapStep({
  name: 'fallback',
  fullEvent: true,
  handler: (event) => `sorry (${event.originStep}: ${event.error.code})`,
});
const handled = createGraph();
handled.to(flaky()).respond().errorHandler(fallback);
const server2 = createMockServer(handled, { logLevel: 'silent' });
console.log('reply:', await server2.test('/', 0));

// 3. a Collector with onStreamError: 'partial' emits what it has, with the error set
const partial = createGraph();
partial
  .to(flaky())
  .to(new Collector({ name: 'collect', onStreamError: 'partial' }))
  .to(
    new MapStep({
      name: 'report',
      fullEvent: true,
      handler: (event) => ({ got: event.body, error: event.error?.code, at: event.originStep }),
    }),
  )
  .respond();
const server3 = createMockServer(partial, { logLevel: 'silent' });
console.log('partial:', await server3.test('/', 3));

await Promise.all([server.close(), server2.close(), server3.close()]);
