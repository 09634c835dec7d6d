// The seed's "Example with batching" in servegraph: Batch -> ModelRunnerStep with an LLModel in a dedicated
// process -> FlatMap, which splits the batch so that every request gets its own reply.
import { Batch, createGraph, createMockServer, FlatMap, LLMPromptArtifact, ModelRunnerStep } from 'servegraph';

const prompt = new LLMPromptArtifact({
  key: 'summary-prompt',
  modelUrl: 'embedded://demo',
  promptTemplate: 'Summarize in a few words: {text}',
  invocationConfig: { max_tokens: 8 },
});

const runner = new ModelRunnerStep({ name: 'my_model_runner' });
runner.addModel({
  endpointName: 'my_endpoint',
  modelClass: 'LLModel',
  modelArtifact: prompt,
  executionMechanism: 'dedicated_process',
  resultPath: 'output',
});

const graph = createGraph({ name: 'batching' });
graph
  .to(new Batch({ name: 'my_batching', maxEvents: 2, flushAfterSeconds: 4, fullEvent: true }))
  .to(runner)
  .to(new FlatMap({ name: 'split', fullEvent: true, handler: (batch) => batch.body }))
  .respond();

const server = createMockServer(graph);
const texts = ['the train was late', 'rates went up again', 'a quiet walk by the river', 'bread rises overnight'];
const replies = await Promise.all(texts.map((text) => server.test('/', { text })));
console.log(JSON.stringify(replies[0])); // each request's own body, with the model's output at 'output'
for (const r of replies.slice(1)) console.log(JSON.stringify(r.text), '->', r.output.usage.completion_tokens, 'tokens');
const calls = await server.monitoring.calls('my_endpoint');
console.log('call records:', calls.length, '| batch sizes:', calls.map((c) => c.batchSize).join(', '));
await server.close();
