// The seed's "Example with classifier": a ModelRunnerStep with two LLModel endpoints, each in its own execution
// mechanism, and a selector that picks which of them run for each event (here, those the request lists).
// Run it with: node examples/classifier/main.mjs
import {
  createGraph,
  createMockServer,
  LLMPromptArtifact,
  ModelRunnerStep,
  ModelSelector,
  registerClass,
} from 'servegraph';

// the embedded demo model needs no network or key; set OPENAI_BASE_URL or OPENAI_API_KEY for a real one
const modelUrl = process.env.OPENAI_BASE_URL || process.env.OPENAI_API_KEY ? 'openai://gpt-4o-mini' : 'embedded://demo';

/** MLRun's MyClassifier: runs the endpoints listed in body.models when all are known, else none. */
class MyClassifier extends ModelSelector {
  constructor(params) {
    super(params);
    this.models = [...params.models];
  }

  select(event) {
    const current = event.body.models;
    if (Array.isArray(current) && current.length > 0 && current.every((m) => this.models.includes(m))) return current;
    return [];
  }
}
registerClass('MyClassifier', MyClassifier);

const prompt = (key, system) =>
  new LLMPromptArtifact({
    key,
    modelUrl,
    promptTemplate: [
      { role: 'system', content: system },
      { role: 'user', content: '{question}' },
    ],
    invocationConfig: { max_tokens: 24 },
  });

const modelRunnerStep = new ModelRunnerStep({
  name: 'model_runner_step',
  modelRunnerSelector: 'MyClassifier', // classify which model should be used (modelSelector is the same option)
  modelSelectorParameters: { models: ['endpoint-1', 'endpoint-2'] },
});
modelRunnerStep.addModel({
  endpointName: 'endpoint-1',
  modelArtifact: prompt('finance-prompt', 'You answer questions about savings and interest rates.'),
  executionMechanism: 'thread_pool', // a worker thread
  modelClass: 'LLModel',
});
modelRunnerStep.addModel({
  endpointName: 'endpoint-2',
  modelArtifact: prompt('travel-prompt', 'You answer questions about trains and hotels.'),
  executionMechanism: 'process_pool', // a child process
  modelClass: 'LLModel',
});

const graph = createGraph({ name: 'my-project' }); // MLRun: function.set_topology("flow", engine="async")
graph.to(modelRunnerStep).respond();

const server = createMockServer(graph);
const question = 'Is it a good time to book a trip or to save?';
for (const models of [['endpoint-1'], ['endpoint-1', 'endpoint-2'], ['endpoint-3']]) {
  const reply = await server.test('/', { question, models });
  console.log(`models ${JSON.stringify(models)} ->`, JSON.stringify(reply, null, 2));
}
await server.close();
