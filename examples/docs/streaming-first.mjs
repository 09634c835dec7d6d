import { createGraph, createMockServer, MapStep } from 'servegraph';

const graph = createGraph();
graph
  .to(
    new MapStep({
      name: 'words',
      // an async generator handler makes a streaming step: each yield is one chunk
      handler: async function* (text, ctx) {
        const words = text.split(' ');
        for (const [i, word] of words.entries()) {
          if (ctx.signal.aborted) return; // the stream was cancelled
          yield i === 0 ? word : ` ${word}`;
        }
        return { words: words.length }; // the summary, sent with the end marker
      },
    }),
  )
  .to(new MapStep({ name: 'shout', handler: (chunk) => chunk.toUpperCase() })) // runs once per chunk
  .respond();

const server = createMockServer(graph);

const stream = server.testStream('/', 'streams flow through graphs', { id: 'req-1' });
for await (const chunk of stream) console.log('chunk:', JSON.stringify(chunk));
console.log('done:', await stream.done);

console.log('test():', await server.test('/', 'all at once')); // the collected result
await server.close();
