import { expect, test } from 'vitest';
import { createGraph, createMockServer, Step, type StepContext } from '../../src/index.js';

// Compiles under strict: a typed Step whose do() is an async generator method is a streaming step.
class Words extends Step<string, string> {
  override async *do(text: string, ctx: StepContext) {
    for (const w of text.split(' ')) {
      if (ctx.signal.aborted) return;
      yield w;
    }
  }
}

test('a typed user step with an async generator do() streams', async () => {
  const graph = createGraph();
  graph.to(new Words({ name: 'words' })).respond();
  const server = createMockServer(graph);
  const chunks: unknown[] = [];
  for await (const c of server.testStream('/', 'a b')) chunks.push(c);
  expect(chunks).toEqual(['a', 'b']);
  await server.close();
});
