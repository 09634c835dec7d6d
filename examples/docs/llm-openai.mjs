import { createGraph, createMockServer, LLMPromptArtifact, ModelRunnerStep } from 'servegraph';
import { startOpenAITestServer } from 'servegraph/testing';

// a local server speaking OpenAI's wire protocol: here it answers 429 once, then 200
const oai = await startOpenAITestServer({
  answer: 'Rates look stable.',
  status: [429, 200],
  headers: { 'retry-after-ms': '50' },
});
const prompt = new LLMPromptArtifact({
  key: 'finance-prompt',
  modelUrl: 'openai://gpt-4o-mini',
  promptTemplate: 'Client {name} asks: {q}',
  providerOptions: { baseURL: oai.url, apiKey: 'test' }, // in real use: OPENAI_API_KEY / OPENAI_BASE_URL
});
const runner = new ModelRunnerStep({ name: 'runner' });
runner.addModel({
  endpointName: 'finance',
  modelClass: 'LLModel',
  modelArtifact: prompt,
  executionMechanism: 'asyncio',
});
const graph = createGraph({ name: 'finance' });
graph.to(runner).respond();

const server = createMockServer(graph);
const reply = await server.test('/', { name: 'Ana', q: 'Are rates going up?' });
console.log(JSON.stringify(reply, null, 2)); // one model, no resultPath: its output is the reply
console.log('requests:', oai.requests.map((r) => r.path).join(', '));
console.log('sent:', JSON.stringify(oai.requests[1].body.messages));
await server.close();
await oai.close();
