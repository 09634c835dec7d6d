import { createGraph, createMockServer, MapStep, Step } from 'servegraph';

// a stand-in for a client library whose calls return an async iterable and take an AbortSignal
const client = {
  async *complete(prompt, { signal }) {
    for (const token of ['Hel', 'lo', ', ', prompt]) {
      if (signal.aborted) return;
      yield token;
    }
  },
};

// a user step streams when its do() is a generator method
class Echo extends Step {
  async *do(text) {
    for (const c of text) yield c;
  }
}

const graph = createGraph();
graph
  // not a generator function: `streaming: true` declares the step
  .to(new MapStep({ name: 'llm', streaming: true, handler: (prompt, ctx) => client.complete(prompt, ctx) }))
  .respond();

const server = createMockServer(graph);
console.log(await server.test('/', 'Ada'));
await server.close();

const echo = createGraph();
echo.to(new Echo({ name: 'echo' })).respond();
const server2 = createMockServer(echo);
for await (const c of server2.testStream('/', 'hey')) console.log(c);
await server2.close();
