import { afterEach } from 'vitest';
import {
  createGraph,
  type Graph,
  type HttpServer,
  LLMPromptArtifact,
  ModelRunnerStep,
  type ServeOptions,
  serve,
} from '../../src/index.js';
import { send } from '../integration/http-helpers.js';

/**
 * Helpers of the dashboard tests (monitoring.md section 10): a graph `support` whose runner `assistant` holds one
 * LLModel `chat` on `embedded://demo` (a pause per token gives it latencies like a hosted model's, and topics of
 * different lengths give varied answers), served on port 0 and closed after each test.
 */

export const CSP = "default-src 'self'; img-src 'self' data:";

const TOPICS = [
  'the morning train to the coast',
  'baking bread at home',
  'a walk in the hills',
  'repairing an old bicycle',
  'planting tomatoes on a balcony',
  'a quiet library on a rainy day',
  'learning to sharpen a kitchen knife',
];

/** The support graph; `tokenDelayMs` is the embedded model's pause between tokens. */
export function supportGraph(tokenDelayMs = 2): Graph {
  const runner = new ModelRunnerStep({ name: 'assistant', raiseException: false });
  runner.addModel({
    endpointName: 'chat',
    modelClass: 'LLModel',
    executionMechanism: 'asyncio',
    modelArtifact: new LLMPromptArtifact({
      key: 'support-prompt',
      modelUrl: 'embedded://demo',
      promptTemplate: [
        { role: 'system', content: 'You answer customers briefly.' },
        { role: 'user', content: 'Tell me about {topic}' },
      ],
      invocationConfig: { max_tokens: 24 },
      providerOptions: { tokenDelayMs },
    }),
  });
  const graph = createGraph({ name: 'support' });
  graph.to(runner).respond();
  return graph;
}

const open: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((app) => app.close({ graceMs: 0 })));
});

/** serve() on a free port, quiet, closed after the test. */
export async function start(graph: Graph = supportGraph(), options: ServeOptions = {}): Promise<HttpServer> {
  const app = await serve(graph, { port: 0, logger: false, ...options });
  open.push(app);
  return app;
}

/**
 * `n` requests at once; those whose index `fails(i)` names carry `[[sg:fail]]`, which the embedded model fails
 * on. Resolves with the statuses once every call record is written.
 */
export async function traffic(
  app: HttpServer,
  n: number,
  fails: (i: number) => boolean = () => false,
  headers: Record<string, string> = {},
): Promise<number[]> {
  const statuses = await Promise.all(
    Array.from({ length: n }, (_, i) => {
      const topic = `${TOPICS[i % TOPICS.length]}${fails(i) ? ' [[sg:fail]]' : ''}`;
      return send(app.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ topic }),
      }).then((r) => r.status);
    }),
  );
  await app.monitoring.flush();
  return statuses;
}
