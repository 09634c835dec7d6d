// The demo (examples/demo) and its spec-file version (examples/demo-yaml): the topic classifier, the graph's
// answers, the YAML version answering exactly as the module, and the switch to an OpenAI-compatible server.
// The examples load servegraph from dist/ (as a user's would): this file does too. Needs `npm run build`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { startOpenAITestServer } from '../../src/testing/index.js';
import { send } from '../integration/http-helpers.js';
import { assertBuilt, CLI, example, ROOT, runNode, sseEvents, startServe, userEnv } from './helpers.js';

type Servegraph = typeof import('../../src/index.js');
type Labelled = { label: string; text: string };
type Classifier = {
  NaiveBayes: new (
    examples: Labelled[],
  ) => { classify(text: string): string; probabilities(text: string): Array<{ label: string; probability: number }> };
  readExamples(file: string): Labelled[];
  tokenize(text: string): string[];
};
type DemoReply = Record<
  string,
  {
    text: string;
    sentiment: { score: number; label: string; words: string[] };
    reply: { answer: string; usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } };
  }
>;

const load = <T>(path: string): Promise<T> => import(pathToFileURL(path).href) as Promise<T>;

let sg: Servegraph;
let classifier: Classifier;
beforeAll(async () => {
  assertBuilt();
  // the demo reads these when it is imported: this process must not point it at a remote LLM
  for (const name of ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'OPENAI_MODEL']) delete process.env[name];
  sg = await load<Servegraph>(join(ROOT, 'dist/index.js'));
  classifier = await load<Classifier>(example('demo/topic-classifier.mjs'));
});

/** Questions the training data does not hold, with their topic. */
const UNSEEN: Array<[string, string]> = [
  ['Is it worth opening a savings account for my kids?', 'finance'],
  ['How much interest will I pay on a car loan?', 'finance'],
  ['Which train goes from Oslo to Bergen?', 'travel'],
  ['Can I bring skis on the flight to Geneva?', 'travel'],
  ['How do I keep my sourdough bread from going flat?', 'cooking'],
  ['What herbs go well with roast potatoes?', 'cooking'],
  ['My wifi router keeps disconnecting from the laptop.', 'tech'],
  ['How do I update the apps on my tablet?', 'tech'],
];

describe('the topic classifier (multinomial naive Bayes over topics.tsv)', () => {
  test('it learns four topics from a few hundred sentences and classifies unseen questions', () => {
    const examples = classifier.readExamples(example('demo/topics.tsv'));
    expect(examples.length).toBeGreaterThanOrEqual(300);
    expect([...new Set(examples.map((e) => e.label))].sort()).toEqual(['cooking', 'finance', 'tech', 'travel']);
    const nb = new classifier.NaiveBayes(examples);
    for (const [text, topic] of UNSEEN) expect(nb.classify(text), text).toBe(topic);
  });

  test('leave-one-out accuracy over the training data is at least 85%', () => {
    const examples = classifier.readExamples(example('demo/topics.tsv'));
    let right = 0;
    for (let i = 0; i < examples.length; i++) {
      const nb = new classifier.NaiveBayes(examples.filter((_, j) => j !== i));
      if (nb.classify(examples[i]!.text) === examples[i]!.label) right += 1;
    }
    expect(right / examples.length).toBeGreaterThanOrEqual(0.85);
  });

  test('it is deterministic: probabilities sum to 1, ties go in label order, equal inputs give equal outputs', () => {
    const examples = classifier.readExamples(example('demo/topics.tsv'));
    const a = new classifier.NaiveBayes(examples).probabilities('a question about nothing in particular');
    const b = new classifier.NaiveBayes(examples).probabilities('a question about nothing in particular');
    expect(a).toEqual(b);
    expect(a.reduce((s, p) => s + p.probability, 0)).toBeCloseTo(1, 10);
    expect(classifier.tokenize('Which Trains and hotels?')).toEqual(['train', 'hotel']);
  });

  test('a malformed training file is an SgError naming the line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-topics-'));
    try {
      const file = join(dir, 'bad.tsv');
      writeFileSync(file, '# topics\nfinance\tsavings\nno tab here\n');
      expect(() => classifier.readExamples(file)).toThrow(expect.objectContaining({ code: 'SG_ERR_INVALID_OPTION' }));
      expect(() => classifier.readExamples(file)).toThrow(/bad\.tsv:3: expected 'label<TAB>text'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the demo graph, in a mock server', () => {
  test('each question goes to its topic, with its sentiment, and the YAML version answers exactly the same', async () => {
    const moduleGraph = (await load<{ default: InstanceType<Servegraph['Graph']> }>(example('demo/graph.mjs'))).default;
    const yamlGraph = sg.Graph.fromFile(example('demo-yaml/graph.yaml'));
    const questions: Array<[string, string, string]> = [
      ['I love night trains! Which one goes from Paris to Amsterdam?', 'travel', 'positive'],
      ['My bank charged me an awful fee on my savings account.', 'finance', 'negative'],
      ['  How long should I   knead bread dough?  ', 'cooking', 'neutral'],
      ['My laptop is slow after the update and it is terrible.', 'tech', 'negative'],
    ];
    const replies: DemoReply[][] = [];
    for (const graph of [moduleGraph, yamlGraph]) {
      const server = sg.createMockServer(graph, { logLevel: 'silent' });
      try {
        replies.push(await Promise.all(questions.map(([text]) => server.test('/', { text }) as Promise<DemoReply>)));
      } finally {
        await server.close();
      }
    }
    for (const [i, [text, topic, mood]] of questions.entries()) {
      const reply = replies[0]![i]!;
      expect(Object.keys(reply), text).toEqual([topic]);
      expect(reply[topic]!.text).toBe(text.replace(/\s+/g, ' ').trim()); // preprocess folded the whitespace
      expect(reply[topic]!.sentiment.label).toBe(mood);
      expect(reply[topic]!.reply.answer.length).toBeGreaterThan(0);
      expect(reply[topic]!.reply.usage.completion_tokens).toBeGreaterThan(0);
      expect(replies[1]![i], `the YAML version, for: ${text}`).toEqual(reply);
    }
  }, 60_000);

  test('a body without text is a 400 SG_ERR_BAD_REQUEST from preprocess naming the field', async () => {
    const graph = sg.Graph.fromFile(example('demo-yaml/graph.yaml'));
    const server = sg.createMockServer(graph, { logLevel: 'silent' });
    try {
      for (const body of [{ q: 'hi' }, { text: '   ' }, { text: 42 }, 'just a string', { text: 'x'.repeat(2001) }]) {
        const err = (await server.test('/', body).catch((e: unknown) => e)) as InstanceType<Servegraph['SgError']>;
        expect(err, JSON.stringify(body)).toBeInstanceOf(sg.SgError);
        expect(err).toMatchObject({ code: 'SG_ERR_BAD_REQUEST', status: 400, step: 'preprocess' });
        expect(err.details).toMatchObject({ field: 'text' });
      }
    } finally {
      await server.close();
    }
  }, 60_000);

  test('`servegraph graph` draws both versions: steps, the runners and their endpoints', async () => {
    for (const file of ['demo/graph.mjs', 'demo-yaml/graph.yaml']) {
      const r = await runNode([CLI, 'graph', example(file)]);
      expect(r.code, r.stderr).toBe(0);
      for (const name of ['preprocess', 'sentiment', 'assistant', 'finance', 'travel', 'cooking', 'tech'])
        expect(r.stdout, `${file}: ${name}`).toContain(name);
    }
  });
});

describe('with OPENAI_BASE_URL set, the demo asks an OpenAI-compatible server', () => {
  test('the JSON and SSE answers come from the server, with the topic prompt and the mood filled in', async () => {
    const oai = await startOpenAITestServer({ answer: 'Take the night train at 21:00.', usage: null });
    const cwd = mkdtempSync(join(tmpdir(), 'sg-demo-openai-'));
    const served = await startServe([example('demo/graph.mjs'), '--port', '0', '--quiet'], {
      cwd,
      env: userEnv({ OPENAI_BASE_URL: oai.url, OPENAI_API_KEY: 'test-key', OPENAI_MODEL: 'llama3.2:1b' }),
    });
    try {
      const body = JSON.stringify({ text: 'I love trains. Which one goes from Paris to Amsterdam?' });
      const headers = { 'content-type': 'application/json' };
      const json = await send(served.url, {
        method: 'POST',
        headers: { ...headers, accept: 'application/json' },
        body,
      });
      expect(json.status, json.text).toBe(200);
      const reply = json.json() as DemoReply;
      expect(reply.travel!.reply.answer).toBe('Take the night train at 21:00.');

      const sse = await send(served.url, {
        method: 'POST',
        headers: { ...headers, accept: 'text/event-stream' },
        body,
      });
      const events = sseEvents(sse.text);
      const chunks = events.filter((e) => e.event === 'chunk').map((e) => JSON.parse(e.data) as string);
      expect(chunks.length).toBeGreaterThan(1);
      expect(chunks.join('')).toBe('Take the night train at 21:00.');
      expect(events.at(-1)!.event).toBe('done');

      const sent = oai.requests.filter((r) => r.path === '/v1/chat/completions');
      expect(sent).toHaveLength(2);
      for (const r of sent) {
        const b = r.body as { model: string; stream: boolean; messages: Array<{ role: string; content: string }> };
        expect(b.model).toBe('llama3.2:1b');
        expect(b.stream).toBe(true);
        expect(b.messages[0]).toMatchObject({ role: 'system', content: expect.stringMatching(/travel agent/) });
        expect(b.messages[1]!.content).toBe(
          'A customer who sounds positive writes: I love trains. Which one goes from Paris to Amsterdam?',
        );
        expect(r.headers.authorization).toBe('Bearer test-key');
      }
    } finally {
      expect(await served.stop()).toBe(0);
      await oai.close();
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 90_000);
});
