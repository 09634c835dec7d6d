import { createGraph, createMockServer, LLMPromptArtifact, ModelRunnerStep } from 'servegraph';

// 'embedded://demo' is the small demo model shipped in the package: no network, no key, no download
const prompt = new LLMPromptArtifact({
  key: 'trip-prompt',
  modelUrl: 'embedded://demo',
  promptTemplate: [
    { role: 'system', content: 'You plan short trips.' },
    { role: 'user', content: 'Plan {days} days in {place}, travelling by train.' },
  ],
  promptLegend: { place: { field: 'trip.city', description: 'The city to visit' } },
  invocationConfig: { max_tokens: 40, temperature: 0.7 },
});

const runner = new ModelRunnerStep({ name: 'runner' });
runner.addModel({
  endpointName: 'planner',
  modelClass: 'LLModel',
  modelArtifact: prompt,
  executionMechanism: 'asyncio',
  resultPath: 'plan',
});
const graph = createGraph({ name: 'trips' });
graph.to(runner).respond();

const server = createMockServer(graph);
const reply = await server.test('/', { days: 3, trip: { city: 'Porto' } });
console.log(JSON.stringify(reply.plan, null, 2));
try {
  await server.test('/', { days: 3 });
} catch (err) {
  console.log(err.status, err.cause.code, err.cause.message);
}
await server.close();
