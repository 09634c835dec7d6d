// Streaming, as in the seed's "HTTP streaming step": a streaming LLModel answers over HTTP as Server-Sent
// Events, while a side branch collects the whole answer with a Collector.
import { Collector, createGraph, LLMPromptArtifact, MapStep, ModelRunnerStep, serve } from 'servegraph';

const prompt = new LLMPromptArtifact({
  key: 'chat-prompt',
  modelUrl: 'embedded://demo',
  promptTemplate: 'Tell me about {topic}',
  invocationConfig: { stream: true, max_tokens: 4 }, // stream: true makes a streaming model
});
const runner = new ModelRunnerStep({ name: 'chat' });
runner.addModel({ endpointName: 'chat', modelClass: 'LLModel', modelArtifact: prompt, executionMechanism: 'asyncio' });

const saved = [];
const graph = createGraph({ name: 'streaming' });
graph.setStreaming(true); // on by default, as in MLRun
graph.to(runner).respond(); // the reply streams: chunks go to the client as they are made
runner
  .to(new Collector({ name: 'collect' })) // waits for every chunk, then emits one event
  .to(new MapStep({ name: 'save', handler: (reply) => saved.push(reply) }));

// an in-memory monitoring store, so that the example leaves no servegraph.db behind
const app = await serve(graph, { port: 0, logger: false, tracking: { store: 'sqlite::memory:' } });
const response = await fetch(app.url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-request-id': 'req-1' },
  body: JSON.stringify({ topic: 'bread' }),
});
console.log(response.status, response.headers.get('content-type'));
process.stdout.write(await response.text());
await app.close(); // waits for the side branch
console.log('saved:', JSON.stringify(saved));
