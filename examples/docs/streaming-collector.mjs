import { Collector, createGraph, createMockServer, MapStep } from 'servegraph';

const tokens = (name) =>
  new MapStep({
    name,
    inputPath: 'prompt',
    resultPath: 'answer', // applied when the stream is collected, never to chunks
    handler: async function* (prompt) {
      const words = prompt.split(' ');
      for (const [i, word] of words.entries()) yield i === 0 ? word : ` ${word}`;
      return { usage: { total_tokens: words.length } };
    },
  });

// the default merge: strings concatenate
const plain = createGraph();
plain
  .to(tokens('tokens'))
  .to(new Collector({ name: 'collect' }))
  .respond();

// a reducer: init once per stream, step per chunk, finish with the done payload
const counted = createGraph();
counted
  .to(tokens('tokens'))
  .to(
    new Collector({
      name: 'collect',
      timeoutMs: 30_000,
      reducer: {
        init: () => ({ text: '', n: 0 }),
        step: (acc, chunk) => ({ text: acc.text + chunk, n: acc.n + 1 }),
        finish: (acc, done) => ({ text: acc.text, chunks: acc.n, usage: done.usage }),
      },
    }),
  )
  .respond();

for (const graph of [plain, counted]) {
  const server = createMockServer(graph);
  console.log(await server.test('/', { prompt: 'to be or not' }));
  await server.close();
}
