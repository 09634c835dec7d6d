import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LLMPromptArtifact, ModelArtifact, SgError } from '../../src/index.js';
import { rejectsSg } from '../support/core.js';

/** llm.md section 1, "On disk": save(), load(), promptFile, modelArtifact paths. */

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sg-prompt-artifact-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const finance = () =>
  new LLMPromptArtifact({
    key: 'finance-prompt',
    description: 'Answers client questions about rates',
    modelArtifact: new ModelArtifact({
      key: 'gpt-mini',
      modelUrl: 'openai://gpt-4o-mini',
      defaultConfig: { temperature: 0.3 },
    }),
    promptTemplate: [
      { role: 'system', content: 'You are a careful financial analyst.' },
      { role: 'user', content: 'Client {name} asks: {question}' },
    ],
    promptLegend: {
      name: { field: 'client.name', description: 'Display name of the client' },
      question: { field: 'q', description: 'The question, verbatim' },
    },
    invocationConfig: { max_tokens: 200, stop: ['\n\n'] },
    providerOptions: { apiKeyEnv: 'FINANCE_OPENAI_KEY', apiKey: 'sk-never-on-disk' },
  });

describe('save and load', () => {
  for (const ext of ['json', 'yaml', 'yml']) {
    it(`round-trips through a .${ext} file`, async () => {
      const file = join(tempDir(), `finance.prompt.${ext}`);
      const p = finance();
      await p.save(file);
      const text = readFileSync(file, 'utf8');
      const onDisk = ext === 'json' ? JSON.parse(text) : parse(text);
      expect(onDisk).toEqual(p.toJSON());
      expect(onDisk.formatVersion).toBe(1);
      expect(onDisk.kind).toBe('llm-prompt');
      expect(text).not.toContain('sk-never-on-disk');
      const same = await LLMPromptArtifact.load(file);
      expect(same).toBeInstanceOf(LLMPromptArtifact);
      expect(same.toJSON()).toEqual(p.toJSON());
      expect(same.promptTemplate).toEqual(p.promptTemplate);
      expect(same.modelArtifact).toBeInstanceOf(ModelArtifact);
      expect(same.modelArtifact.defaultConfig).toEqual({ temperature: 0.3 });
      expect(same.providerOptions).toEqual({ apiKeyEnv: 'FINANCE_OPENAI_KEY' });
    });
  }

  it('writes JSON for .json (parsable as JSON) and YAML for .yaml', async () => {
    const dir = tempDir();
    const p = finance();
    await p.save(join(dir, 'a.json'));
    await p.save(join(dir, 'a.yaml'));
    expect(() => JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8'))).not.toThrow();
    expect(() => JSON.parse(readFileSync(join(dir, 'a.yaml'), 'utf8'))).toThrow();
  });

  it('round-trips the modelUrl shorthand as modelUrl', async () => {
    const file = join(tempDir(), 'greet.yaml');
    await new LLMPromptArtifact({ key: 'greet', modelUrl: 'embedded://demo', promptTemplate: 'Hello {name}' }).save(
      file,
    );
    const onDisk = parse(readFileSync(file, 'utf8'));
    expect(onDisk.modelUrl).toBe('embedded://demo');
    expect(onDisk).not.toHaveProperty('modelArtifact');
    expect(onDisk.promptTemplate).toEqual([{ role: 'user', content: 'Hello {name}' }]);
    const same = await LLMPromptArtifact.load(file);
    expect(same.modelUrl).toBe('embedded://demo');
    expect(same.toJSON()).toEqual(onDisk);
  });

  it("reads the spec's YAML example", async () => {
    const file = join(tempDir(), 'finance.prompt.yaml');
    writeFileSync(
      file,
      [
        'formatVersion: 1',
        'kind: llm-prompt',
        'key: finance-prompt',
        'description: Answers client questions about rates',
        'modelArtifact: { kind: model, key: gpt-mini, modelUrl: "openai://gpt-4o-mini", defaultConfig: { temperature: 0.3 } }',
        'promptTemplate:',
        '  - { role: system, content: "You are a careful financial analyst." }',
        '  - { role: user, content: "Client {name} asks: {question}" }',
        'promptLegend:',
        '  name: { field: client.name, description: Display name of the client }',
        '  question: { field: q, description: "The question, verbatim" }',
        'invocationConfig: { max_tokens: 200 }',
        'providerOptions: { apiKeyEnv: FINANCE_OPENAI_KEY }',
        '',
      ].join('\n'),
    );
    const p = await LLMPromptArtifact.load(file);
    expect(p.key).toBe('finance-prompt');
    expect(p.modelArtifact.key).toBe('gpt-mini');
    expect(p.modelUrl).toBe('openai://gpt-4o-mini');
    expect(p.modelArtifact.defaultConfig).toEqual({ temperature: 0.3 });
    expect(p.promptTemplate).toEqual([
      { role: 'system', content: 'You are a careful financial analyst.' },
      { role: 'user', content: 'Client {name} asks: {question}' },
    ]);
    expect(p.promptLegend.name).toEqual({ field: 'client.name', description: 'Display name of the client' });
    expect(p.invocationConfig).toEqual({ max_tokens: 200 });
    expect(p.providerOptions).toEqual({ apiKeyEnv: 'FINANCE_OPENAI_KEY' });
  });

  it('reads a file without formatVersion as version 1', async () => {
    const file = join(tempDir(), 'p.json');
    writeFileSync(file, JSON.stringify({ key: 'v', modelUrl: 'embedded://demo', promptTemplate: 'x' }));
    expect((await LLMPromptArtifact.load(file)).key).toBe('v');
  });

  it('resolves a modelArtifact path relative to the artifact file', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'models'));
    mkdirSync(join(dir, 'prompts'));
    writeFileSync(
      join(dir, 'models', 'gpt.model.yaml'),
      'kind: model\nkey: gpt-mini\nmodelUrl: "openai://gpt-4o-mini"\ndefaultConfig: { temperature: 0.3 }\n',
    );
    writeFileSync(
      join(dir, 'prompts', 'p.prompt.yaml'),
      'kind: llm-prompt\nkey: p\nmodelArtifact: ../models/gpt.model.yaml\npromptTemplate: "Hi {name}"\n',
    );
    const p = await LLMPromptArtifact.load(join(dir, 'prompts', 'p.prompt.yaml'));
    expect(p.modelArtifact).toBeInstanceOf(ModelArtifact);
    expect(p.modelArtifact.key).toBe('gpt-mini');
    expect(p.modelUrl).toBe('openai://gpt-4o-mini');
    expect(p.modelArtifact.defaultConfig).toEqual({ temperature: 0.3 });
    expect(p.promptTemplate).toEqual([{ role: 'user', content: 'Hi {name}' }]);
  });

  it('fails on a missing model artifact file with SG_ERR_ARTIFACT_NOT_FOUND', async () => {
    const file = join(tempDir(), 'p.yaml');
    writeFileSync(file, 'key: p\nmodelArtifact: ./nowhere.model.yaml\npromptTemplate: x\n');
    await rejectsSg(LLMPromptArtifact.load(file), 'SG_ERR_ARTIFACT_NOT_FOUND');
  });
});

describe('load failures', () => {
  it('rejects a formatVersion this release does not read, listing the one it reads', async () => {
    const file = join(tempDir(), 'v2.json');
    writeFileSync(
      file,
      JSON.stringify({ formatVersion: 2, kind: 'llm-prompt', key: 'v2', modelUrl: 'embedded://demo' }),
    );
    const err = await rejectsSg(LLMPromptArtifact.load(file), 'SG_ERR_PROMPT_ARTIFACT_INVALID');
    expect(err.details.field).toBe('formatVersion');
    expect(err.message).toContain('1');
  });

  it('rejects another kind', async () => {
    const file = join(tempDir(), 'kind.json');
    writeFileSync(file, JSON.stringify({ kind: 'model', key: 'k', modelUrl: 'embedded://demo' }));
    await rejectsSg(LLMPromptArtifact.load(file), 'SG_ERR_PROMPT_ARTIFACT_INVALID');
  });

  it('rejects a file holding providerOptions.apiKey', async () => {
    const file = join(tempDir(), 'key.yaml');
    writeFileSync(file, 'key: k\nmodelUrl: "openai://gpt-4o-mini"\nproviderOptions: { apiKey: sk-in-a-file }\n');
    const err = await rejectsSg(LLMPromptArtifact.load(file), 'SG_ERR_PROMPT_ARTIFACT_INVALID');
    expect(err.details.field).toBe('providerOptions.apiKey');
    expect(err.message).not.toContain('sk-in-a-file');
  });

  it('rejects an apiKey in the inline model artifact of a file', async () => {
    const file = join(tempDir(), 'mkey.yaml');
    writeFileSync(
      file,
      'key: k\nmodelArtifact: { key: m, modelUrl: "openai://x", providerOptions: { apiKey: sk-x } }\npromptTemplate: x\n',
    );
    const err = await LLMPromptArtifact.load(file).then(
      () => undefined,
      (e: unknown) => e as SgError,
    );
    expect(err).toBeInstanceOf(SgError);
    expect(['SG_ERR_PROMPT_ARTIFACT_INVALID', 'SG_ERR_MODEL_ARTIFACT_INVALID']).toContain(err!.code);
    expect(err!.message).not.toContain('sk-x');
  });

  it('fails on a missing file with SG_ERR_ARTIFACT_NOT_FOUND', async () => {
    await rejectsSg(LLMPromptArtifact.load(join(tempDir(), 'absent.yaml')), 'SG_ERR_ARTIFACT_NOT_FOUND');
  });

  it('rejects invalid messages in a file', async () => {
    const file = join(tempDir(), 'bad.yaml');
    writeFileSync(file, 'key: bad\nmodelUrl: "embedded://demo"\npromptTemplate:\n  - { role: user, content: 5 }\n');
    const err = await rejectsSg(LLMPromptArtifact.load(file), 'SG_ERR_PROMPT_ARTIFACT_INVALID');
    expect(err.details.field).toBe('promptTemplate[0].content');
  });

  it('rejects bad providerOptions types in a file with SG_ERR_INVALID_OPTION', async () => {
    const file = join(tempDir(), 'opts.yaml');
    writeFileSync(file, 'key: o\nmodelUrl: "embedded://demo"\nproviderOptions: { timeoutMs: -1 }\n');
    const err = await rejectsSg(LLMPromptArtifact.load(file), 'SG_ERR_INVALID_OPTION');
    expect(err.details.field).toBe('providerOptions.timeoutMs');
  });
});

describe('promptFile', () => {
  it('reads a YAML list relative to the artifact file', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'prompts'));
    mkdirSync(join(dir, 'templates'));
    writeFileSync(
      join(dir, 'templates', 'greet.yaml'),
      '- { role: system, content: "Be kind." }\n- { Role: user, Content: "Hello {name}" }\n',
    );
    const artifactFile = join(dir, 'prompts', 'greet.prompt.yaml');
    writeFileSync(artifactFile, 'key: greet\nmodelUrl: "embedded://demo"\npromptFile: ../templates/greet.yaml\n');
    const p = await LLMPromptArtifact.load(artifactFile);
    expect(p.promptFile).toBe('../templates/greet.yaml');
    expect(p.promptTemplate).toEqual([
      { role: 'system', content: 'Be kind.' },
      { role: 'user', content: 'Hello {name}' },
    ]);
    const j = p.toJSON();
    expect(j.promptFile).toBe('../templates/greet.yaml');
    expect(j).not.toHaveProperty('promptTemplate');
  });

  it('reads a JSON string as one user message', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'template.json'), JSON.stringify('Summarise {text}'));
    writeFileSync(
      join(dir, 'sum.prompt.json'),
      JSON.stringify({ key: 'sum', modelUrl: 'embedded://demo', promptFile: 'template.json' }),
    );
    const p = await LLMPromptArtifact.load(join(dir, 'sum.prompt.json'));
    expect(p.promptTemplate).toEqual([{ role: 'user', content: 'Summarise {text}' }]);
  });

  it('is not read by the constructor: the template is undefined until the file is read', () => {
    const p = new LLMPromptArtifact({ key: 'lazy', modelUrl: 'embedded://demo', promptFile: '/nowhere/at/all.yaml' });
    expect(p.promptFile).toBe('/nowhere/at/all.yaml');
    expect(p.promptTemplate).toBeUndefined();
  });

  it('fails load() with SG_ERR_ARTIFACT_NOT_FOUND when the promptFile is missing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'p.yaml'), 'key: p\nmodelUrl: "embedded://demo"\npromptFile: missing.yaml\n');
    await rejectsSg(LLMPromptArtifact.load(join(dir, 'p.yaml')), 'SG_ERR_ARTIFACT_NOT_FOUND');
  });

  it('validates the template of the promptFile', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't.yaml'), '- { role: user, content: hi, extra: 1 }\n');
    writeFileSync(join(dir, 'p.yaml'), 'key: p\nmodelUrl: "embedded://demo"\npromptFile: t.yaml\n');
    await rejectsSg(LLMPromptArtifact.load(join(dir, 'p.yaml')), 'SG_ERR_PROMPT_ARTIFACT_INVALID');
    writeFileSync(join(dir, 't2.yaml'), 'just: an object\n');
    writeFileSync(join(dir, 'p2.yaml'), 'key: p2\nmodelUrl: "embedded://demo"\npromptFile: t2.yaml\n');
    await rejectsSg(LLMPromptArtifact.load(join(dir, 'p2.yaml')), 'SG_ERR_PROMPT_ARTIFACT_INVALID');
  });

  it('rejects a file holding both promptTemplate and promptFile', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't.yaml'), '"x"\n');
    writeFileSync(join(dir, 'p.yaml'), 'key: p\nmodelUrl: "embedded://demo"\npromptFile: t.yaml\npromptTemplate: y\n');
    await rejectsSg(LLMPromptArtifact.load(join(dir, 'p.yaml')), 'SG_ERR_PROMPT_ARTIFACT_INVALID');
  });

  it('saves and loads an artifact with a promptFile, writing the path only', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'template.yaml'), '"Hello {name}"\n');
    const first = await (async () => {
      writeFileSync(join(dir, 'a.yaml'), 'key: a\nmodelUrl: "embedded://demo"\npromptFile: template.yaml\n');
      return LLMPromptArtifact.load(join(dir, 'a.yaml'));
    })();
    await first.save(join(dir, 'b.yaml'));
    const onDisk = parse(readFileSync(join(dir, 'b.yaml'), 'utf8'));
    expect(onDisk.promptFile).toBe('template.yaml');
    expect(onDisk).not.toHaveProperty('promptTemplate');
    const second = await LLMPromptArtifact.load(join(dir, 'b.yaml'));
    expect(second.promptTemplate).toEqual([{ role: 'user', content: 'Hello {name}' }]);
  });
});
