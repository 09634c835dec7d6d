// The servegraph demo, served by `npm start` (`servegraph serve examples/demo/graph.mjs`):
//
//   preprocess ──> sentiment (AFINN, thread_pool) ──> assistant (topic selector ─> one LLM proxy per topic)
//
// A question is cleaned, scored for sentiment in a worker thread, then a naive Bayes topic classifier picks the
// endpoint of its topic: four prompts over one shared LLModel. The answer streams (SSE) or comes as JSON by the
// request's Accept header, and every model call is recorded for the dashboard. No network, key or download is
// needed: the LLM is the embedded demo model unless OPENAI_BASE_URL or OPENAI_API_KEY is set.
import { fileURLToPath } from 'node:url';
import { createGraph, LLMPromptArtifact, MapStep, ModelArtifact, ModelRunnerStep } from 'servegraph';
import { preprocess } from './preprocess.mjs';

/** What each topic's endpoint is told to be; the topics are those of topics.tsv. */
const TOPICS = {
  finance: 'You are the help desk of a small bank: savings, loans, cards and investments. Answer briefly.',
  travel: 'You are a travel agent who knows trains, flights and hotels. Answer briefly.',
  cooking: 'You are a cook who answers kitchen questions. Answer briefly.',
  tech: 'You are a help desk for computers, phones and home networks. Answer briefly.',
};

// The shared LLM: the embedded demo model, or an OpenAI-compatible server when the environment names one
// (OPENAI_BASE_URL for vLLM, Ollama, llama.cpp…; OPENAI_API_KEY for OpenAI; OPENAI_MODEL picks the model).
const remote = Boolean(process.env.OPENAI_BASE_URL || process.env.OPENAI_API_KEY);
const llm = new ModelArtifact({
  key: 'demo-llm',
  modelUrl: remote ? `openai://${process.env.OPENAI_MODEL || 'gpt-4o-mini'}` : 'embedded://demo',
  defaultConfig: { max_tokens: 80, temperature: 0.7, stream: true },
  // the embedded model answers at once; a short pause per token lets you watch the answer stream
  providerOptions: remote ? {} : { tokenDelayMs: 25 },
});

/** Each topic's prompt artifact: its own system message, the customer's mood and question filled in. */
function promptOf(topic) {
  return new LLMPromptArtifact({
    key: `${topic}-prompt`,
    modelArtifact: llm,
    promptTemplate: [
      { role: 'system', content: TOPICS[topic] },
      { role: 'user', content: 'A customer who sounds {mood} writes: {text}' },
    ],
    promptLegend: {
      mood: { field: 'sentiment.label', description: 'positive, negative or neutral, from the sentiment model' },
      text: { field: 'text', description: "the customer's question" },
    },
  });
}

const graph = createGraph({ name: 'demo', baseDir: fileURLToPath(new URL('.', import.meta.url)) });
// one LLModel, loaded once; the reply goes under 'reply', beside the question and its sentiment
graph.addSharedModel({
  name: 'llm',
  modelClass: 'LLModel',
  executionMechanism: 'asyncio',
  modelArtifact: llm,
  resultPath: 'reply',
});

const sentiment = new ModelRunnerStep({ name: 'sentiment' });
sentiment.addModel({
  endpointName: 'sentiment',
  modelClass: './sentiment-model.mjs#SentimentModel', // imported inside the worker thread
  executionMechanism: 'thread_pool',
  inputPath: 'text',
  resultPath: 'sentiment',
  labels: ['kind=afinn'],
});

const assistant = new ModelRunnerStep({ name: 'assistant', modelSelector: './topic-classifier.mjs#TopicSelector' });
for (const topic of Object.keys(TOPICS)) {
  assistant.addSharedModelProxy({
    endpointName: topic,
    sharedModelName: 'llm',
    modelArtifact: promptOf(topic),
    labels: [`topic=${topic}`],
  });
}

graph
  .to(new MapStep({ name: 'preprocess', handler: preprocess }))
  .to(sentiment)
  .to(assistant)
  .respond();

export default graph;

/** What `servegraph serve` prints under its serving line: where to look, and one request to try. */
export function banner({ url }) {
  const body = JSON.stringify({ text: 'Which train goes from Paris to Amsterdam? I love night trains!' });
  return [
    `dashboard: ${url}/dashboard`,
    `try:       curl -N ${url}/ -H 'content-type: application/json' -d '${body}'`,
    `JSON:      add -H 'accept: application/json' for the whole answer at once`,
  ].join('\n');
}
