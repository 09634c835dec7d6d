import { describe, expect, it } from 'vitest';
import { type ChatMessage, LLMPromptArtifact, ModelArtifact } from '../../src/index.js';

/** llm.md section 1, "Reading an artifact" and toJSON(). */

const gpt = () =>
  new ModelArtifact({ key: 'gpt-mini', modelUrl: 'openai://gpt-4o-mini', defaultConfig: { temperature: 0.3 } });

const finance = (model = gpt()) =>
  new LLMPromptArtifact({
    key: 'finance-prompt',
    description: 'Answers client questions about rates',
    modelArtifact: model,
    promptTemplate: [
      { role: 'system', content: 'You are a careful financial analyst.' },
      { role: 'user', content: 'Client {name} asks: {question}' },
    ],
    promptLegend: {
      name: { field: 'client.name', description: 'Display name of the client' },
      question: { field: 'q', description: 'The question, verbatim' },
    },
    invocationConfig: { max_tokens: 200 },
    providerOptions: { apiKeyEnv: 'FINANCE_OPENAI_KEY' },
  });

describe('reading an artifact', () => {
  it("follows the spec's example: a string template reads back as one user message", () => {
    const p = new LLMPromptArtifact({ key: 'greet', modelUrl: 'embedded://demo', promptTemplate: 'Hello {name}' });
    expect(p.promptTemplate).toEqual([{ role: 'user', content: 'Hello {name}' }]);
    expect(p.modelArtifact.modelUrl).toBe('embedded://demo');
    expect(p.toJSON().promptTemplate).toEqual([{ role: 'user', content: 'Hello {name}' }]);
  });

  it('gives the defaults of absent fields', () => {
    const p = new LLMPromptArtifact({ key: 'bare', modelUrl: 'embedded://demo' });
    expect(p.key).toBe('bare');
    expect(p.description).toBe('');
    expect(p.promptLegend).toEqual({});
    expect(p.invocationConfig).toEqual({});
    expect(p.providerOptions).toEqual({});
    expect(p.promptFile).toBeUndefined();
    expect(p.promptTemplate).toBeUndefined();
  });

  it('gives the fields as given', () => {
    const model = gpt();
    const p = finance(model);
    expect(p.key).toBe('finance-prompt');
    expect(p.description).toBe('Answers client questions about rates');
    expect(p.modelArtifact).toBe(model);
    expect(p.modelUrl).toBe('openai://gpt-4o-mini');
    expect(p.promptTemplate).toEqual([
      { role: 'system', content: 'You are a careful financial analyst.' },
      { role: 'user', content: 'Client {name} asks: {question}' },
    ]);
    expect(p.promptLegend).toEqual({
      name: { field: 'client.name', description: 'Display name of the client' },
      question: { field: 'q', description: 'The question, verbatim' },
    });
    expect(p.invocationConfig).toEqual({ max_tokens: 200 });
    expect(p.providerOptions).toEqual({ apiKeyEnv: 'FINANCE_OPENAI_KEY' });
  });

  it('keeps legend entries as given: a missing field is not filled in', () => {
    const p = new LLMPromptArtifact({
      key: 'l',
      modelUrl: 'embedded://demo',
      promptTemplate: 'Hi {name}',
      promptLegend: { name: { description: 'Who is greeted' } },
    });
    expect(p.promptLegend).toEqual({ name: { description: 'Who is greeted' } });
    expect(p.promptLegend.name.field).toBeUndefined();
  });

  it('makes a ModelArtifact from the modelUrl shorthand', () => {
    const p = new LLMPromptArtifact({ key: 'short', modelUrl: 'openai://llama3.2:1b', promptTemplate: 'x' });
    expect(p.modelArtifact).toBeInstanceOf(ModelArtifact);
    expect(p.modelArtifact.modelUrl).toBe('openai://llama3.2:1b');
    expect(p.modelUrl).toBe('openai://llama3.2:1b');
  });

  it('reads modelUrl from the model artifact, and undefined when it has none', () => {
    const noUrl = new ModelArtifact({ key: 'file-model', modelFile: '/tmp/model.bin' });
    const p = new LLMPromptArtifact({ key: 'p', modelArtifact: noUrl });
    expect(p.modelUrl).toBeUndefined();
  });

  it('keeps the name of a message and lower-cases keys', () => {
    const p = new LLMPromptArtifact({
      key: 'named',
      modelUrl: 'embedded://demo',
      promptTemplate: [{ Role: 'user', Content: 'hi', NAME: 'ana' } as unknown as ChatMessage],
    });
    expect(p.promptTemplate).toEqual([{ role: 'user', content: 'hi', name: 'ana' }]);
  });

  it('has read-only properties', () => {
    const p = finance();
    const w = p as unknown as Record<string, unknown>;
    for (const prop of [
      'key',
      'description',
      'modelArtifact',
      'modelUrl',
      'promptTemplate',
      'promptFile',
      'promptLegend',
      'invocationConfig',
      'providerOptions',
    ]) {
      expect(() => {
        w[prop] = 'changed';
      }, prop).toThrow(TypeError);
    }
    expect(p.key).toBe('finance-prompt');
    expect(() => {
      (p.invocationConfig as Record<string, unknown>).max_tokens = 1;
    }).toThrow(TypeError);
    expect(() => {
      (p.promptLegend as Record<string, unknown>).extra = {};
    }).toThrow(TypeError);
    expect(p.invocationConfig).toEqual({ max_tokens: 200 });
  });

  it('is not changed by changing what it was built from, or what it returned', () => {
    const template = [{ role: 'user', content: 'Hi {name}' }];
    const legend: Record<string, { field?: string }> = { name: { field: 'who' } };
    const config: Record<string, unknown> = { temperature: 0.1 };
    const p = new LLMPromptArtifact({
      key: 'copy',
      modelUrl: 'embedded://demo',
      promptTemplate: template,
      promptLegend: legend,
      invocationConfig: config,
    });
    template[0].content = 'changed';
    template.push({ role: 'user', content: 'more' });
    legend.name.field = 'changed';
    config.temperature = 2;
    expect(p.promptTemplate).toEqual([{ role: 'user', content: 'Hi {name}' }]);
    expect(p.promptLegend).toEqual({ name: { field: 'who' } });
    expect(p.invocationConfig).toEqual({ temperature: 0.1 });
    const read = p.promptTemplate!;
    read[0].content = 'mutated';
    read.push({ role: 'user', content: 'x' });
    expect(p.promptTemplate).toEqual([{ role: 'user', content: 'Hi {name}' }]);
  });
});

describe('toJSON', () => {
  it('writes kind llm-prompt and formatVersion 1', () => {
    const j = finance().toJSON();
    expect(j.kind).toBe('llm-prompt');
    expect(j.formatVersion).toBe(1);
  });

  it('writes every field in normalised form, with the model artifact as an object', () => {
    expect(finance().toJSON()).toEqual({
      formatVersion: 1,
      kind: 'llm-prompt',
      key: 'finance-prompt',
      description: 'Answers client questions about rates',
      modelArtifact: {
        formatVersion: 1,
        kind: 'model',
        key: 'gpt-mini',
        modelUrl: 'openai://gpt-4o-mini',
        defaultConfig: { temperature: 0.3 },
      },
      promptTemplate: [
        { role: 'system', content: 'You are a careful financial analyst.' },
        { role: 'user', content: 'Client {name} asks: {question}' },
      ],
      promptLegend: {
        name: { field: 'client.name', description: 'Display name of the client' },
        question: { field: 'q', description: 'The question, verbatim' },
      },
      invocationConfig: { max_tokens: 200 },
      providerOptions: { apiKeyEnv: 'FINANCE_OPENAI_KEY' },
    });
  });

  it('writes a string template as its one-message array, never as a string', () => {
    const p = new LLMPromptArtifact({ key: 's', modelUrl: 'embedded://demo', promptTemplate: 'Just {this}' });
    expect(p.toJSON().promptTemplate).toEqual([{ role: 'user', content: 'Just {this}' }]);
  });

  it('writes modelUrl, not a modelArtifact object, for the shorthand', () => {
    const j = new LLMPromptArtifact({ key: 's', modelUrl: 'embedded://demo', promptTemplate: 'x' }).toJSON();
    expect(j.modelUrl).toBe('embedded://demo');
    expect(j).not.toHaveProperty('modelArtifact');
  });

  it('writes a modelArtifact object, not modelUrl, for a given model artifact', () => {
    const j = finance().toJSON();
    expect(j).not.toHaveProperty('modelUrl');
    expect(j.modelArtifact).toEqual(gpt().toJSON());
  });

  it('writes promptFile as its path and no promptTemplate', () => {
    const p = new LLMPromptArtifact({ key: 'f', modelUrl: 'embedded://demo', promptFile: 'prompts/greet.yaml' });
    const j = p.toJSON();
    expect(j.promptFile).toBe('prompts/greet.yaml');
    expect(j).not.toHaveProperty('promptTemplate');
  });

  it('writes no promptTemplate without a template', () => {
    const j = new LLMPromptArtifact({ key: 'n', modelUrl: 'embedded://demo' }).toJSON();
    expect(j).not.toHaveProperty('promptTemplate');
    expect(j).not.toHaveProperty('promptFile');
  });

  it('never writes an apiKey, neither its own nor its model artifact one', () => {
    const model = new ModelArtifact({
      key: 'm',
      modelUrl: 'openai://gpt-4o-mini',
      providerOptions: { apiKey: 'sk-model-secret', baseURL: 'http://127.0.0.1:1/v1' },
    });
    const p = new LLMPromptArtifact({
      key: 'k',
      modelArtifact: model,
      promptTemplate: 'x',
      providerOptions: { apiKey: 'sk-prompt-secret', apiKeyEnv: 'MY_KEY' },
    });
    const j = p.toJSON();
    expect(j.providerOptions).toEqual({ apiKeyEnv: 'MY_KEY' });
    expect((j.modelArtifact as Record<string, unknown>).providerOptions).toEqual({ baseURL: 'http://127.0.0.1:1/v1' });
    const text = JSON.stringify(j);
    expect(text).not.toContain('sk-prompt-secret');
    expect(text).not.toContain('sk-model-secret');
    expect(text).not.toContain('apiKey"');
    // the key stays usable in code
    expect(p.providerOptions.apiKey).toBe('sk-prompt-secret');
  });

  it('gives an object JSON.stringify uses, and fromJSON rebuilds the same artifact from it', () => {
    const p = finance();
    const text = JSON.stringify(p);
    expect(JSON.parse(text)).toEqual(p.toJSON());
    const again = LLMPromptArtifact.fromJSON(JSON.parse(text));
    expect(again).toBeInstanceOf(LLMPromptArtifact);
    expect(again.toJSON()).toEqual(p.toJSON());
  });

  it('returns a copy: changing it does not change the artifact', () => {
    const p = finance();
    const j = p.toJSON();
    (j.promptTemplate as ChatMessage[])[0].content = 'changed';
    (j.invocationConfig as Record<string, unknown>).max_tokens = 1;
    (j.promptLegend as Record<string, Record<string, string>>).name.field = 'x';
    expect(p.toJSON()).toEqual(finance().toJSON());
  });
});
