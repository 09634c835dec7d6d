// An LLModel with a prompt artifact: the template, its legend (where each placeholder's value comes from) and
// the generation settings travel together; the model's result lands at body[resultPath] as {answer, usage}.
import { createGraph, createMockServer, LLMPromptArtifact, ModelArtifact, ModelRunnerStep } from 'servegraph';

// 'embedded://demo' runs offline; 'openai://gpt-4o-mini' (with OPENAI_API_KEY) would call OpenAI
const llm = new ModelArtifact({ key: 'support-llm', modelUrl: 'embedded://demo', defaultConfig: { temperature: 0.5 } });
const supportPrompt = new LLMPromptArtifact({
  key: 'support-prompt',
  modelArtifact: llm,
  promptTemplate: [
    { role: 'system', content: 'You answer the customers of a small bakery, kindly and briefly.' },
    { role: 'user', content: 'About order {order}: {complaint}' },
  ],
  promptLegend: {
    order: { field: 'order.id', description: 'The order number' },
    complaint: { field: 'message', description: 'What the customer wrote' },
  },
  invocationConfig: { max_tokens: 16 },
});

const runner = new ModelRunnerStep({ name: 'runner' });
runner.addModel({
  endpointName: 'support',
  modelClass: 'LLModel',
  modelArtifact: supportPrompt,
  executionMechanism: 'asyncio', // one copy, many calls in flight: the mechanism for remote LLMs
  resultPath: 'output',
});
const graph = createGraph({ name: 'support' });
graph.to(runner).respond();

const server = createMockServer(graph);
const reply = await server.test('/', { order: { id: 'A-17' }, message: 'The rye loaf was stale.' });
console.log(JSON.stringify(reply, null, 2));
const failed = await server.test('/', { order: { id: 'A-18' } }).catch((err) => err); // no 'message'
console.log(failed.status, failed.cause.code, failed.cause.message);
await server.close();
