import {
  createGraph,
  createMockServer,
  LLMPromptArtifact,
  ModelArtifact,
  ModelRunnerStep,
  ModelSelector,
  registerClass,
} from 'servegraph';

// one model, loaded once, serving two endpoints with their own prompts
const demo = new ModelArtifact({ key: 'demo-llm', modelUrl: 'embedded://demo', defaultConfig: { max_tokens: 24 } });
const finance = new LLMPromptArtifact({
  key: 'finance-prompt',
  modelArtifact: demo,
  promptTemplate: 'A question about savings and interest rates: {q}',
});
const travel = new LLMPromptArtifact({
  key: 'travel-prompt',
  modelArtifact: demo,
  promptTemplate: 'A question about trains and hotels: {q}',
});

class TopicSelector extends ModelSelector {
  select(event) {
    return [event.body.topic];
  }
}
registerClass('TopicSelector', TopicSelector);

const graph = createGraph({ name: 'support' });
graph.addSharedModel({ name: 'llm', modelClass: 'LLModel', executionMechanism: 'asyncio', modelArtifact: demo });
const runner = new ModelRunnerStep({ name: 'runner', modelSelector: 'TopicSelector' });
runner.addSharedModelProxy({ endpointName: 'finance', modelArtifact: finance }); // found by its model artifact
runner.addSharedModelProxy({ endpointName: 'travel', sharedModelName: 'llm', modelArtifact: travel });
graph.to(runner).respond();

const server = createMockServer(graph);
for (const topic of ['finance', 'travel']) {
  const reply = await server.test('/', { topic, q: 'what should I plan for next year?' });
  console.log(topic, '->', JSON.stringify(reply[topic].usage));
}
await server.monitoring.flush();
for (const endpoint of ['finance', 'travel']) {
  const [call] = await server.monitoring.calls(endpoint);
  console.log(endpoint, 'record:', call.outcome, call.promptTokens, call.completionTokens);
}
await server.close();
