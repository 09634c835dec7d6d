// The seed's shared model with proxies: one LLModel is added to the graph once and used by two ModelRunnerSteps,
// each through a proxy: an endpoint of its own (name, prompt, labels, monitoring record) over the same model.
// Run it with: node examples/shared-model/main.mjs
import { createGraph, createMockServer, LLMPromptArtifact, MapStep, ModelArtifact, ModelRunnerStep } from 'servegraph';

// the embedded demo model needs no network or key; set OPENAI_BASE_URL or OPENAI_API_KEY for a real one
const modelUrl = process.env.OPENAI_BASE_URL || process.env.OPENAI_API_KEY ? 'openai://gpt-4o-mini' : 'embedded://demo';

const supportLlm = new ModelArtifact({ key: 'support-llm', modelUrl, defaultConfig: { max_tokens: 20 } });
const summaryPrompt = new LLMPromptArtifact({
  key: 'summary-prompt',
  modelArtifact: supportLlm,
  promptTemplate: 'Summarize this support ticket in one line: {ticket}',
});
const replyPrompt = new LLMPromptArtifact({
  key: 'reply-prompt',
  modelArtifact: supportLlm,
  promptTemplate: [
    { role: 'system', content: 'You write short, kind replies to customers.' },
    { role: 'user', content: 'Reply to a customer whose problem is: {summary}' },
  ],
});

const graph = createGraph({ name: 'support' });
// MLRun: graph.add_shared_model(...); loaded once, in one worker thread of the graph-level executor
graph.addSharedModel({
  name: 'support-llm',
  modelClass: 'LLModel',
  executionMechanism: 'thread_pool',
  modelArtifact: supportLlm,
  resultPath: 'llm',
});

// MLRun: model_runner_step.add_shared_model_proxy(...)
const triage = new ModelRunnerStep({ name: 'triage' });
triage.addSharedModelProxy({
  endpointName: 'summarizer',
  sharedModelName: 'support-llm', // found by name
  modelArtifact: summaryPrompt,
  labels: ['team=triage'],
});
const answer = new ModelRunnerStep({ name: 'answer' });
answer.addSharedModelProxy({
  endpointName: 'replier',
  modelArtifact: replyPrompt, // found by its model artifact (the same key: support-llm)
  labels: { team: 'support', tier: 'gold' },
  modelEndpointCreationStrategy: 'archive', // a changed prompt keeps the old endpoint record, untagged
});

graph
  .to(triage)
  .to(new MapStep({ name: 'keep-summary', handler: (b) => ({ ticket: b.ticket, summary: b.llm.answer.trim() }) }))
  .to(answer)
  .to(new MapStep({ name: 'reply', handler: (b) => ({ summary: b.summary, reply: b.llm.answer.trim() }) }))
  .respond();

const server = createMockServer(graph);
const reply = await server.test('/', { ticket: 'The invoice for March was charged twice to my card.' });
console.log(JSON.stringify(reply, null, 2));

for (const e of await server.monitoring.listEndpoints()) {
  const labels = Object.entries(e.labels).map(([k, v]) => `${k}=${v}`);
  console.log(
    `endpoint ${e.name}: step ${e.step}, ${e.kind} of '${e.sharedModel}', labels ${labels.join(',')}, ${e.stats.count} call`,
  );
}
await server.close();
