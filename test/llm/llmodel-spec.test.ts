// LLModel in graph spec files (llm.md section 1, "In a graph spec"; graph.md section 11; model-runner.md
// section 9): an inline llm-prompt artifact, or a relative path to a .prompt.yaml file using promptFile;
// toSpec() round trip. Uses the embedded model (no server). thread_pool loads dist/.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { Graph, LLMPromptArtifact } from '../../src/index.js';
import { LLMODEL, llmGraph, useServers } from './llmodel-fixtures.js';

const serve = useServers();
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sg-llmodel-spec-'));
  dirs.push(d);
  return d;
}

const TEMPLATE = [
  { role: 'system', content: 'You write calm prose.' },
  { role: 'user', content: 'Tell me about {topic}' },
];
const BODY = { topic: 'a harbour at dawn' };

/** The same prompt built in code: what the spec-file graphs must answer. */
async function answerInCode(): Promise<unknown> {
  const prompt = new LLMPromptArtifact({
    key: 'demo-prompt',
    modelUrl: 'embedded://demo',
    promptTemplate: TEMPLATE,
    invocationConfig: { max_tokens: 16 },
  });
  return serve(llmGraph('demo', prompt, { resultPath: 'out' }).graph).test('/', BODY);
}

/** A graph spec with one model_runner whose model 'demo' is an LLModel with `modelArtifact`. */
function graphSpec(modelArtifact: unknown, mechanism = 'asyncio'): Record<string, unknown> {
  return {
    kind: 'flow',
    name: 'llm-graph',
    steps: {
      runner: {
        kind: 'model_runner',
        responder: true,
        models: {
          demo: { modelClass: LLMODEL, executionMechanism: mechanism, resultPath: 'out', modelArtifact },
        },
      },
    },
  };
}

type Saved = {
  steps: { runner: { models: { demo: { modelClass: string; modelArtifact: Record<string, unknown> } } } };
};

describe('LLModel in a spec file', () => {
  for (const mechanism of ['asyncio', 'thread_pool']) {
    test(`${mechanism}: an inline llm-prompt artifact; toSpec() keeps it and loads back the same`, async () => {
      const dir = tempDir();
      const file = join(dir, 'graph.yaml');
      const inline = {
        kind: 'llm-prompt',
        key: 'demo-prompt',
        modelUrl: 'embedded://demo',
        promptTemplate: TEMPLATE,
        invocationConfig: { max_tokens: 16 },
      };
      writeFileSync(file, stringify(graphSpec(inline, mechanism)));
      const graph = Graph.fromFile(file);
      const expected = await answerInCode();
      const s = serve(graph);
      expect(await s.test('/', BODY)).toEqual(expected);
      expect((await s.monitoring.getEndpoint('demo')).artifact).toEqual({
        kind: 'llm-prompt',
        key: 'demo-prompt',
        modelUrl: 'embedded://demo',
        path: null,
      });
      const saved = graph.toSpec() as Saved;
      expect(saved.steps.runner.models.demo.modelClass).toBe(LLMODEL);
      expect(saved.steps.runner.models.demo.modelArtifact).toEqual({ ...inline, formatVersion: 1 });
      const again = Graph.fromSpec(JSON.parse(JSON.stringify(saved)), { baseDir: dir });
      expect(await serve(again).test('/', BODY)).toEqual(expected);
    });
  }

  test('a string template in the spec reads back as one user message', () => {
    const graph = Graph.fromSpec(
      graphSpec({ kind: 'llm-prompt', key: 'p', modelUrl: 'embedded://demo', promptTemplate: 'Hi {name}' }),
    );
    const saved = graph.toSpec() as Saved;
    expect(saved.steps.runner.models.demo.modelArtifact.promptTemplate).toEqual([
      { role: 'user', content: 'Hi {name}' },
    ]);
  });

  for (const mechanism of ['asyncio', 'thread_pool']) {
    test(`${mechanism}: a relative path to a .prompt.yaml file that uses promptFile`, async () => {
      const dir = tempDir();
      mkdirSync(join(dir, 'prompts'));
      writeFileSync(join(dir, 'prompts', 'demo.template.yaml'), stringify(TEMPLATE));
      writeFileSync(
        join(dir, 'prompts', 'demo.prompt.yaml'),
        stringify({
          formatVersion: 1,
          kind: 'llm-prompt',
          key: 'demo-prompt',
          modelArtifact: { kind: 'model', key: 'demo-model', modelUrl: 'embedded://demo' },
          promptFile: 'demo.template.yaml', // relative to the artifact file
          invocationConfig: { max_tokens: 16 },
        }),
      );
      const file = join(dir, 'graph.yaml');
      writeFileSync(file, stringify(graphSpec('prompts/demo.prompt.yaml', mechanism)));
      const graph = Graph.fromFile(file);
      const expected = await answerInCode();
      const s = serve(graph);
      expect(await s.test('/', BODY)).toEqual(expected);
      expect((await s.monitoring.getEndpoint('demo')).artifact).toEqual({
        kind: 'llm-prompt',
        key: 'demo-prompt',
        modelUrl: 'embedded://demo',
        path: 'prompts/demo.prompt.yaml',
      });
    });
  }

  test('toSpec() of a graph whose prompt uses promptFile keeps the artifact, and loads back the same', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'prompts'));
    writeFileSync(join(dir, 'prompts', 'demo.template.yaml'), stringify(TEMPLATE));
    writeFileSync(
      join(dir, 'prompts', 'demo.prompt.yaml'),
      stringify({
        kind: 'llm-prompt',
        key: 'demo-prompt',
        modelUrl: 'embedded://demo',
        promptFile: 'demo.template.yaml',
        invocationConfig: { max_tokens: 16 },
      }),
    );
    const file = join(dir, 'graph.yaml');
    writeFileSync(file, stringify(graphSpec('prompts/demo.prompt.yaml')));
    const graph = Graph.fromFile(file);
    const expected = await answerInCode();
    expect(await serve(graph).test('/', BODY)).toEqual(expected);
    const saved = graph.toSpec() as Saved;
    expect(saved.steps.runner.models.demo.modelArtifact).toMatchObject({
      kind: 'llm-prompt',
      key: 'demo-prompt',
      modelUrl: 'embedded://demo',
      invocationConfig: { max_tokens: 16 },
    });
    expect(saved.steps.runner.models.demo.modelArtifact.promptFile).toEqual(expect.any(String));
    // saved next to the original graph file, the spec loads and answers the same
    const copy = join(dir, 'saved.yaml');
    writeFileSync(copy, stringify(saved));
    expect(await serve(Graph.fromFile(copy)).test('/', BODY)).toEqual(expected);
  });
});
