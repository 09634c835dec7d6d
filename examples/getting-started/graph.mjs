// Your first graph, in code: serve it with `npx servegraph serve examples/getting-started/graph.mjs`.
import { createGraph, LLMPromptArtifact, MapStep, ModelRunnerStep } from 'servegraph';
import { clean, Urgency } from './parts.mjs';

const replyPrompt = new LLMPromptArtifact({
  key: 'reply-prompt',
  modelUrl: 'embedded://demo', // or openai://gpt-4o-mini, with OPENAI_API_KEY set
  promptTemplate: 'Write a short reply to this support ticket: {text}',
  invocationConfig: { max_tokens: 24 },
});

// no selector: both models run on every event, and their outputs are merged by endpoint name
const models = new ModelRunnerStep({ name: 'models' });
models.addModel({ endpointName: 'urgency', modelClass: Urgency, executionMechanism: 'naive', inputPath: 'text' });
models.addModel({
  endpointName: 'reply',
  modelClass: 'LLModel',
  modelArtifact: replyPrompt,
  executionMechanism: 'asyncio',
});

const graph = createGraph({ name: 'tickets' });
graph
  .to(new MapStep({ name: 'clean', handler: clean }))
  .to(models)
  .respond();

export default graph;
