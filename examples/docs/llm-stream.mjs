import { Collector, createGraph, createMockServer, LLMPromptArtifact, ModelRunnerStep } from 'servegraph';

const prompt = new LLMPromptArtifact({
  key: 'bread-prompt',
  modelUrl: 'embedded://demo',
  promptTemplate: 'Tell me how to bake {what}',
  invocationConfig: { stream: true, max_tokens: 20 }, // stream: true makes a streaming model
});
const runner = new ModelRunnerStep({ name: 'runner' });
runner.addModel({ endpointName: 'baker', modelClass: 'LLModel', modelArtifact: prompt, executionMechanism: 'asyncio' });

// 1. chunk by chunk: each chunk is a text delta, the done payload carries the usage
const graph = createGraph({ name: 'baking' });
graph.to(runner).respond();
const server = createMockServer(graph);
const stream = server.testStream('/', { what: 'bread' });
const chunks = [];
for await (const chunk of stream) chunks.push(chunk);
const done = await stream.done;
console.log(chunks.length, 'chunks:', JSON.stringify(chunks.slice(0, 4)), '...');
console.log('done:', JSON.stringify({ chunks: done.chunks, usage: done.usage, finishReason: done.finishReason }));
await server.close();

// 2. collected: a Collector gives the same {answer, usage} a non-streaming call returns
const runner2 = new ModelRunnerStep({ name: 'runner' });
runner2.addModel({
  endpointName: 'baker',
  modelClass: 'LLModel',
  modelArtifact: prompt,
  executionMechanism: 'asyncio',
  resultPath: 'reply',
}); // the Collector writes the collected value there
const collected = createGraph({ name: 'baking-collected' });
collected
  .to(runner2)
  .to(new Collector({ name: 'collect' }))
  .respond();
const server2 = createMockServer(collected);
const reply = await server2.test('/', { what: 'bread' });
console.log(
  'collected answer equals the chunks:',
  reply.reply.answer === chunks.join(''),
  JSON.stringify(reply.reply.usage),
);
await server2.close();
