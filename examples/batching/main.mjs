// The seed's "Example with batching": Batch -> ModelRunnerStep with an LLModel in a dedicated process -> FlatMap.
// The model is called once per batch, with the batch's questions; FlatMap turns the batch back into one reply
// per request. Run it with: node examples/batching/main.mjs
import { Batch, createGraph, createMockServer, FlatMap, LLMPromptArtifact, ModelRunnerStep } from 'servegraph';

// the embedded demo model needs no network or key; set OPENAI_BASE_URL or OPENAI_API_KEY for a real one
const modelUrl = process.env.OPENAI_BASE_URL || process.env.OPENAI_API_KEY ? 'openai://gpt-4o-mini' : 'embedded://demo';

const llmPromptArtifact = new LLMPromptArtifact({
  key: 'support-prompt',
  modelUrl,
  promptTemplate: 'A customer asks: {question}',
  invocationConfig: { max_tokens: 20 },
});

const graph = createGraph({ name: 'batching' }); // MLRun: function.set_topology("flow", engine="async")
const modelRunnerStep = new ModelRunnerStep({ name: 'my_model_runner' });
modelRunnerStep.addModel({
  modelClass: 'LLModel',
  endpointName: 'my_endpoint',
  executionMechanism: 'dedicated_process', // one child process for this model alone
  modelArtifact: llmPromptArtifact,
  resultPath: 'output',
});
graph
  .to(new Batch({ name: 'my_batching', maxEvents: 2, flushAfterSeconds: 4, fullEvent: true }))
  .to(modelRunnerStep)
  .to(new FlatMap({ name: 'split', fullEvent: true, handler: (event) => event.body })) // MLRun: _fn="(event.body)"
  .respond();

const server = createMockServer(graph);
// four requests at once: two full batches of two, each one model call in the dedicated process
const questions = ['Where is my parcel?', 'Can I change my order?', 'Do you ship abroad?', 'How do I get a refund?'];
const replies = await Promise.all(questions.map((question) => server.test('/', { question })));
for (const reply of replies) console.log(JSON.stringify(reply));

const calls = await server.monitoring.calls('my_endpoint');
console.log(`${calls.length} call records, in batches of ${calls.map((c) => c.batchSize).join(', ')}`);
await server.close();
