import OpenAI from 'openai';
import { createGraph, ModelArtifact, ModelRunnerStep, serve } from 'servegraph';

// an LLModel without a prompt template reads the conversation from body.messages
const runner = new ModelRunnerStep({ name: 'runner' });
runner.addModel({
  endpointName: 'chat',
  modelClass: 'LLModel',
  modelArtifact: new ModelArtifact({ key: 'demo', modelUrl: 'embedded://demo', defaultConfig: { max_tokens: 16 } }),
  executionMechanism: 'asyncio',
});
const graph = createGraph({ name: 'chat' });
graph.to(runner).respond();
const app = await serve(graph, { port: 0, logger: false, authToken: 'secret' });

// the official SDK, pointed at the graph: the token is its apiKey
const client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'secret' });
const messages = [{ role: 'user', content: 'Plan a weekend of walks by the river' }];
const reply = await client.chat.completions.create({ model: 'servegraph', messages });
console.log(reply.choices[0].message.content);
console.log(reply.usage);

const stream = await client.chat.completions.create({
  model: 'servegraph',
  messages,
  stream: true,
  stream_options: { include_usage: true },
});
let text = '';
for await (const chunk of stream) {
  text += chunk.choices[0]?.delta?.content ?? '';
  if (chunk.usage) console.log('streamed the same text:', text === reply.choices[0].message.content, chunk.usage);
}
await app.close();
