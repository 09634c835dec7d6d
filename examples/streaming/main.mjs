// The seed's HTTP streaming step: a streaming LLModel answers token by token over HTTP (SSE), and a Collector
// turns the same stream back into one event for steps that need the whole answer.
// Run it with: node examples/streaming/main.mjs
import { Collector, createGraph, LLMPromptArtifact, MapStep, ModelRunnerStep, serve } from 'servegraph';

// the embedded demo model needs no network or key; set OPENAI_BASE_URL or OPENAI_API_KEY for a real one
const modelUrl = process.env.OPENAI_BASE_URL || process.env.OPENAI_API_KEY ? 'openai://gpt-4o-mini' : 'embedded://demo';

const prompt = new LLMPromptArtifact({
  key: 'chat-prompt',
  modelUrl,
  promptTemplate: [
    { role: 'system', content: 'You are a friendly support assistant.' },
    { role: 'user', content: '{question}' },
  ],
  invocationConfig: { stream: true, max_tokens: 24 }, // stream: true makes a streaming model
});

/** A runner whose one model streams: the runner is a streaming step. */
function chatRunner() {
  const runner = new ModelRunnerStep({ name: 'chat' });
  runner.addModel({
    endpointName: 'assistant',
    modelClass: 'LLModel',
    modelArtifact: prompt,
    executionMechanism: 'thread_pool', // the tokens stream out of a worker thread
    resultPath: 'reply',
  });
  return runner;
}

// 1. The chunks go to the client as they are made: the runner is the responder.
const streamed = createGraph({ name: 'streamed' });
streamed.setStreaming(true); // on by default (MLRun: serving_fn.set_streaming(enabled=True))
streamed.to(chatRunner()).respond();

// 2. A Collector gathers the stream into one event, so the next step sees the whole answer.
const collected = createGraph({ name: 'collected' });
collected
  .to(chatRunner())
  .to(new Collector({ name: 'collect' }))
  .to(
    new MapStep({
      name: 'count',
      handler: (body) => ({ ...body, words: body.reply.answer.trim().split(/\s+/).length }),
    }),
  )
  .respond();

const question = JSON.stringify({ question: 'My order arrived damaged, what can I do?' });
for (const graph of [streamed, collected]) {
  const app = await serve(graph, { port: 0, logger: false, tracking: false });
  const res = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: question,
  });
  // read the SSE events as they arrive: one `chunk` per token, then `done`
  const events = [];
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const bytes of res.body) {
    buffered += decoder.decode(bytes, { stream: true });
    const parts = buffered.split('\n\n');
    buffered = parts.pop();
    for (const part of parts) {
      const event = /^event: (.*)$/m.exec(part)?.[1];
      const data = /^data: (.*)$/m.exec(part)?.[1];
      if (event) events.push({ event, data: JSON.parse(data) });
    }
  }
  const chunks = events.filter((e) => e.event === 'chunk').map((e) => e.data);
  const done = events.find((e) => e.event === 'done').data;
  if (graph === streamed) {
    console.log(`streamed: ${chunks.length} chunk events, then done with ${JSON.stringify(done.usage)}`);
    console.log(`  the chunks: ${chunks.map((c) => JSON.stringify(c)).join(' ')}`);
  } else {
    console.log(`collected: ${chunks.length} chunk event, the whole reply:`);
    console.log(`  ${JSON.stringify(chunks[0])}`);
  }
  await app.close();
}
