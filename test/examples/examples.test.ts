// Every example under examples/ runs as its README says (`node examples/<x>/main.mjs`), exits 0 and prints what
// its seed scenario promises. They load servegraph from dist/ and run one after another (each starts workers or
// processes, and the machine's cores are shared). Needs `npm run build`.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { assertBuilt, example, ROOT, runNode } from './helpers.js';

type Answer = { answer: string; usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } };

const isAnswer = (v: unknown): boolean => {
  const a = v as Answer;
  return typeof a?.answer === 'string' && a.answer.length > 0 && a.usage.total_tokens > 0;
};

/** Run `node examples/<name>/main.mjs` from the repository root and return its stdout. */
async function runExample(name: string): Promise<string> {
  const r = await runNode([example(`${name}/main.mjs`)], { cwd: ROOT });
  expect(r.code, `${name}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

beforeAll(() => assertBuilt());

describe('examples/', () => {
  test('each example folder has a README and something to run', () => {
    const dirs = readdirSync(join(ROOT, 'examples'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'docs')
      .map((d) => d.name);
    expect(dirs).toEqual(
      expect.arrayContaining(['batching', 'classifier', 'demo', 'demo-yaml', 'shared-model', 'streaming']),
    );
    for (const d of dirs.filter((n) => n !== 'hello')) {
      expect(existsSync(example(`${d}/README.md`)), `${d}/README.md`).toBe(true);
      const runnable = ['main.mjs', 'graph.mjs', 'graph.yaml'].some((f) => existsSync(example(`${d}/${f}`)));
      expect(runnable, `${d}: main.mjs, graph.mjs or graph.yaml`).toBe(true);
    }
  });

  test('classifier: the selector runs the endpoints a request lists, each an LLModel answering {answer, usage}', async () => {
    const out = await runExample('classifier');
    const replies = out
      .split(/^models /m)
      .slice(1)
      .map((part) => {
        const [models, reply] = part.split(' -> ');
        return { models: JSON.parse(models!) as string[], reply: JSON.parse(reply!) as Record<string, unknown> };
      });
    expect(replies.map((r) => r.models)).toEqual([['endpoint-1'], ['endpoint-1', 'endpoint-2'], ['endpoint-3']]);
    expect(Object.keys(replies[0]!.reply)).toEqual(['endpoint-1']);
    expect(Object.keys(replies[1]!.reply)).toEqual(['endpoint-1', 'endpoint-2']);
    expect(replies[2]!.reply).toEqual({});
    for (const v of [...Object.values(replies[0]!.reply), ...Object.values(replies[1]!.reply)])
      expect(isAnswer(v), JSON.stringify(v)).toBe(true);
    // the same question to the same endpoint gets the same answer, whichever else ran
    expect(replies[1]!.reply['endpoint-1']).toEqual(replies[0]!.reply['endpoint-1']);
  }, 60_000);

  test('batching: Batch -> dedicated-process LLModel -> FlatMap answers each request, two batches of two', async () => {
    const lines = (await runExample('batching')).trim().split('\n');
    const replies = lines.slice(0, 4).map((l) => JSON.parse(l) as { question: string; output: Answer });
    expect(replies.map((r) => r.question)).toEqual([
      'Where is my parcel?',
      'Can I change my order?',
      'Do you ship abroad?',
      'How do I get a refund?',
    ]);
    for (const r of replies) expect(isAnswer(r.output), JSON.stringify(r)).toBe(true);
    expect(lines[4]).toBe('4 call records, in batches of 2, 2, 2, 2');
  }, 60_000);

  test('streaming: SSE carries one chunk per token then done; after a Collector the reply is the whole answer', async () => {
    const out = await runExample('streaming');
    const head = /^streamed: (\d+) chunk events, then done with (\{.*\})$/m.exec(out);
    expect(head, out).not.toBeNull();
    const usage = JSON.parse(head![2]!) as Answer['usage'];
    expect(Number(head![1])).toBe(usage.completion_tokens);
    const chunksLine = /^ {2}the chunks: (.*)$/m.exec(out)![1]!;
    const chunks = [...chunksLine.matchAll(/"(?:[^"\\]|\\.)*"/g)].map((m) => JSON.parse(m[0]) as string);
    expect(chunks).toHaveLength(usage.completion_tokens);

    expect(out).toMatch(/^collected: 1 chunk event, the whole reply:$/m);
    const collected = JSON.parse(/^collected:.*\n {2}(\{.*\})$/m.exec(out)![1]!) as {
      question: string;
      reply: Answer;
      words: number;
    };
    expect(collected.reply.answer).toBe(chunks.join('')); // the same prompt and settings: the same answer
    expect(collected.reply.usage).toEqual(usage);
    expect(collected.words).toBe(collected.reply.answer.trim().split(/\s+/).length);
  }, 60_000);

  test('shared-model: one LLModel, two runners, two proxies recorded as endpoints of their own', async () => {
    const out = await runExample('shared-model');
    const reply = JSON.parse(out.slice(0, out.indexOf('\nendpoint '))) as { summary: string; reply: string };
    expect(reply.summary.length).toBeGreaterThan(0);
    expect(reply.reply.length).toBeGreaterThan(0);
    expect(out).toContain(
      "endpoint replier: step answer, proxy of 'support-llm', labels team=support,tier=gold, 1 call",
    );
    expect(out).toContain("endpoint summarizer: step triage, proxy of 'support-llm', labels team=triage, 1 call");
  }, 60_000);
});
