// A shared model with proxies, as in MLRun's "ModelRunnerStep with proxy models for a shared model": one
// LLModel loaded once (in a dedicated process), two endpoints with their own prompts and monitoring records.
import {
  createGraph,
  createMockServer,
  LLMPromptArtifact,
  ModelArtifact,
  ModelRunnerStep,
  ModelSelector,
  registerClass,
} from 'servegraph';

const modelArtifact = new ModelArtifact({ key: 'shared-llm-model', modelUrl: 'embedded://demo' });
const topicPrompt = (key, topic) =>
  new LLMPromptArtifact({
    key,
    modelArtifact,
    promptTemplate: [
      { role: 'system', content: `You answer questions about ${topic}.` },
      { role: 'user', content: '{question}' },
    ],
    invocationConfig: { max_tokens: 10 },
  });

class MyModelSelector extends ModelSelector {
  select(event) {
    return [`${event.body.topic}_endpoint`];
  }
}
registerClass('MyModelSelector', MyModelSelector);

const graph = createGraph({ name: 'open-ai-tut' });
graph.addSharedModel({
  name: 'shared_llm',
  modelClass: 'LLModel',
  executionMechanism: 'dedicated_process',
  modelArtifact,
  resultPath: 'outputs',
});
const runner = new ModelRunnerStep({ name: 'model_runner_step', modelSelector: 'MyModelSelector' });
for (const topic of ['finance', 'sport']) {
  runner.addSharedModelProxy({
    endpointName: `${topic}_endpoint`,
    modelArtifact: topicPrompt(`${topic}-prompt`, topic),
    sharedModelName: 'shared_llm',
    modelEndpointCreationStrategy: 'overwrite',
  });
}
graph.to(runner).respond();

const server = createMockServer(graph);
const reply = await server.test('/', { topic: 'sport', question: 'How do I train for a 10 km run?' });
console.log(JSON.stringify(reply));
await server.test('/', { topic: 'finance', question: 'Should I save or invest?' });
for (const e of await server.monitoring.listEndpoints()) {
  console.log(e.name, e.kind, e.sharedModel, e.executionMechanism, 'calls:', e.stats.count);
}
await server.close();
