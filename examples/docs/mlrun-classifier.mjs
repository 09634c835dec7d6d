// The seed's "Example with classifier" in servegraph: a selector picks the endpoints of each event, and two
// LLModel endpoints, each with its own prompt artifact, run in a thread pool and in a process pool.
import {
  createGraph,
  createMockServer,
  LLMPromptArtifact,
  ModelRunnerStep,
  ModelSelector,
  registerClass,
} from 'servegraph';

class MyClassifier extends ModelSelector {
  constructor(params) {
    super(params);
    this.models = [...(params.models ?? [])];
  }

  select(event) {
    const wanted = event.body.models;
    if (Array.isArray(wanted) && wanted.every((m) => this.models.includes(m))) return wanted;
    return [];
  }
}
registerClass('MyClassifier', MyClassifier);

// 'embedded://demo' needs no key; point modelUrl at 'openai://gpt-4o-mini' for a real model
const prompt = (key, topic) =>
  new LLMPromptArtifact({
    key,
    modelUrl: 'embedded://demo',
    promptTemplate: `A question about ${topic}: {q}`,
    invocationConfig: { max_tokens: 12 },
  });

const runner = new ModelRunnerStep({
  name: 'model_runner_step',
  modelSelector: 'MyClassifier',
  modelSelectorParameters: { models: ['endpoint-1', 'endpoint-2'] },
});
runner.addModel({
  endpointName: 'endpoint-1',
  modelClass: 'LLModel',
  modelArtifact: prompt('finance-prompt', 'savings and interest rates'),
  executionMechanism: 'thread_pool',
});
runner.addModel({
  endpointName: 'endpoint-2',
  modelClass: 'LLModel',
  modelArtifact: prompt('travel-prompt', 'trains and hotels'),
  executionMechanism: 'process_pool',
});

const graph = createGraph({ name: 'my-func' });
graph.to(runner).respond();

const server = createMockServer(graph);
for (const models of [['endpoint-1'], ['endpoint-1', 'endpoint-2'], ['endpoint-3']]) {
  const reply = await server.test('/', { q: 'what should I plan for next year?', models });
  const answered = Object.entries(reply).map(([endpoint, r]) => `${endpoint} (${r.usage.completion_tokens} tokens)`);
  console.log(JSON.stringify(models), '->', answered.join(', ') || '{}');
}
await server.close();
