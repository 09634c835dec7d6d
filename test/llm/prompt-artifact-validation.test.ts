import { describe, expect, it } from 'vitest';
import { LLMPromptArtifact, type LLMPromptArtifactInit, ModelArtifact } from '../../src/index.js';
import { throwsSg } from '../support/core.js';

/** llm.md section 1: construction and validation of LLMPromptArtifact. */

const INVALID = 'SG_ERR_PROMPT_ARTIFACT_INVALID';

const base = (over: Record<string, unknown> = {}): LLMPromptArtifactInit =>
  ({ key: 'p1', modelUrl: 'embedded://demo', promptTemplate: 'Hello {name}', ...over }) as LLMPromptArtifactInit;

/** Construct with `init` and expect SG_ERR_PROMPT_ARTIFACT_INVALID naming `field` (and the key). */
function invalid(init: Record<string, unknown>, field: string, key = 'p1') {
  const err = throwsSg(() => new LLMPromptArtifact(init as LLMPromptArtifactInit), INVALID);
  expect(err.details.field).toBe(field);
  expect(err.details.key).toBe(key);
  expect(err.message).toContain(field);
  return err;
}

describe('LLMPromptArtifact construction', () => {
  it('builds from a modelUrl, a string template and no other field', () => {
    const p = new LLMPromptArtifact(base());
    expect(p.key).toBe('p1');
    expect(p).toBeInstanceOf(LLMPromptArtifact);
  });

  it('builds from a ModelArtifact and a message list', () => {
    const gpt = new ModelArtifact({ key: 'gpt-mini', modelUrl: 'openai://gpt-4o-mini' });
    const p = new LLMPromptArtifact({
      key: 'finance-prompt',
      modelArtifact: gpt,
      promptTemplate: [
        { role: 'system', content: 'You are careful.' },
        { role: 'user', content: 'Client {name} asks: {question}', name: 'client' },
      ],
    });
    expect(p.modelArtifact).toBe(gpt);
    expect(p.promptTemplate).toHaveLength(2);
  });

  it('accepts no template at all', () => {
    const p = new LLMPromptArtifact({ key: 'no-template', modelUrl: 'embedded://demo' });
    expect(p.promptTemplate).toBeUndefined();
    expect(p.promptFile).toBeUndefined();
  });

  it('accepts keys with dots, dashes and underscores, up to 128 characters', () => {
    expect(new LLMPromptArtifact(base({ key: 'a.b_c-d9' })).key).toBe('a.b_c-d9');
    const long = `a${'b'.repeat(127)}`;
    expect(new LLMPromptArtifact(base({ key: long })).key).toBe(long);
  });

  it('accepts stream true/false and n: 1 in invocationConfig', () => {
    expect(new LLMPromptArtifact(base({ invocationConfig: { stream: true, n: 1 } })).invocationConfig).toEqual({
      stream: true,
      n: 1,
    });
    expect(new LLMPromptArtifact(base({ invocationConfig: { stream: false } })).invocationConfig.stream).toBe(false);
  });

  it('is an instance of LLMPromptArtifact; plain objects and model artifacts are not', () => {
    const p = new LLMPromptArtifact(base());
    expect(p instanceof LLMPromptArtifact).toBe(true);
    expect({ ...base(), kind: 'llm-prompt' } instanceof LLMPromptArtifact).toBe(false);
    expect(new ModelArtifact({ key: 'm', modelUrl: 'embedded://demo' }) instanceof LLMPromptArtifact).toBe(false);
    expect((null as unknown) instanceof LLMPromptArtifact).toBe(false);
  });
});

describe('LLMPromptArtifact validation: key and model', () => {
  it('rejects a key that does not match the pattern', () => {
    for (const key of ['bad key', '-leading', '.dot', 'a/b', '', `a${'b'.repeat(128)}`]) {
      invalid(base({ key }), 'key', key || '');
    }
  });

  it('rejects a missing or non-string key', () => {
    const err = throwsSg(
      () => new LLMPromptArtifact({ modelUrl: 'embedded://demo' } as LLMPromptArtifactInit),
      INVALID,
    );
    expect(err.details.field).toBe('key');
    const err2 = throwsSg(() => new LLMPromptArtifact(base({ key: 42 })), INVALID);
    expect(err2.details.field).toBe('key');
  });

  it('rejects both modelArtifact and modelUrl', () => {
    const gpt = new ModelArtifact({ key: 'gpt', modelUrl: 'openai://gpt-4o-mini' });
    invalid(base({ modelArtifact: gpt }), 'modelArtifact');
  });

  it('rejects neither modelArtifact nor modelUrl', () => {
    invalid({ key: 'p1', promptTemplate: 'x' }, 'modelArtifact');
  });

  it('rejects a modelArtifact that is not a ModelArtifact', () => {
    invalid({ key: 'p1', modelArtifact: { key: 'gpt', modelUrl: 'openai://x' } }, 'modelArtifact');
  });

  it('rejects an empty or non-string modelUrl', () => {
    invalid(base({ modelUrl: '' }), 'modelUrl');
    invalid(base({ modelUrl: 5 }), 'modelUrl');
  });

  it('rejects an unknown field, naming it', () => {
    invalid(base({ temperature: 0.2 }), 'temperature');
  });

  it('rejects a non-string description', () => {
    invalid(base({ description: 3 }), 'description');
  });

  it('rejects a non-object init', () => {
    throwsSg(() => new LLMPromptArtifact(null as unknown as LLMPromptArtifactInit), INVALID);
    throwsSg(() => new LLMPromptArtifact([] as unknown as LLMPromptArtifactInit), INVALID);
  });
});

describe('LLMPromptArtifact validation: messages', () => {
  it('rejects a template that is neither a string nor a list', () => {
    invalid(base({ promptTemplate: 5 }), 'promptTemplate');
    invalid(base({ promptTemplate: { role: 'user', content: 'x' } }), 'promptTemplate');
  });

  it('rejects a message that is not an object', () => {
    invalid(base({ promptTemplate: ['Hello'] }), 'promptTemplate[0]');
    invalid(base({ promptTemplate: [{ role: 'user', content: 'ok' }, null] }), 'promptTemplate[1]');
    invalid(base({ promptTemplate: [['user', 'x']] }), 'promptTemplate[0]');
  });

  it('rejects an empty or missing role', () => {
    invalid(base({ promptTemplate: [{ role: '', content: 'x' }] }), 'promptTemplate[0].role');
    invalid(base({ promptTemplate: [{ content: 'x' }] }), 'promptTemplate[0].role');
    invalid(base({ promptTemplate: [{ role: 1, content: 'x' }] }), 'promptTemplate[0].role');
  });

  it('rejects non-string content (a template needs text)', () => {
    invalid(base({ promptTemplate: [{ role: 'user', content: 5 }] }), 'promptTemplate[0].content');
    invalid(base({ promptTemplate: [{ role: 'user' }] }), 'promptTemplate[0].content');
    invalid(base({ promptTemplate: [{ role: 'user', content: null }] }), 'promptTemplate[0].content');
  });

  it('rejects a non-string name', () => {
    invalid(base({ promptTemplate: [{ role: 'user', content: 'x', name: 7 }] }), 'promptTemplate[0].name');
  });

  it('rejects an unknown message key, naming it', () => {
    invalid(base({ promptTemplate: [{ role: 'user', content: 'x', extra: 1 }] }), 'promptTemplate[0].extra');
  });

  it('folds the case of message keys (Role -> role), as MLRun does', () => {
    const p = new LLMPromptArtifact(
      base({
        promptTemplate: [
          { Role: 'system', CONTENT: 'Be brief.', Name: 'sys' },
          { ROLE: 'user', Content: 'Hi' },
        ],
      }),
    );
    expect(p.promptTemplate).toEqual([
      { role: 'system', content: 'Be brief.', name: 'sys' },
      { role: 'user', content: 'Hi' },
    ]);
  });

  it('checks a folded key like a lower-case one', () => {
    invalid(base({ promptTemplate: [{ Role: '', content: 'x' }] }), 'promptTemplate[0].role');
  });
});

describe('LLMPromptArtifact validation: legend and config', () => {
  it('rejects a legend entry with keys other than field and description', () => {
    invalid(
      base({ promptLegend: { name: { field: 'client.name', description: 'd', type: 'string' } } }),
      'promptLegend.name.type',
    );
  });

  it('rejects a legend entry that is not an object', () => {
    invalid(base({ promptLegend: { name: 'client.name' } }), 'promptLegend.name');
    invalid(base({ promptLegend: { name: null } }), 'promptLegend.name');
  });

  it('rejects a legend that is not an object, and bad field or description types', () => {
    invalid(base({ promptLegend: ['name'] }), 'promptLegend');
    invalid(base({ promptLegend: { name: { field: 3 } } }), 'promptLegend.name.field');
    invalid(base({ promptLegend: { name: { field: '' } } }), 'promptLegend.name.field');
    invalid(base({ promptLegend: { name: { description: false } } }), 'promptLegend.name.description');
  });

  it('accepts a legend entry without field, or even empty', () => {
    const p = new LLMPromptArtifact(base({ promptLegend: { name: { description: 'Who' }, other: {} } }));
    expect(Object.keys(p.promptLegend)).toEqual(['name', 'other']);
  });

  it('rejects an invocationConfig that is not a plain object', () => {
    class Config {
      temperature = 0.1;
    }
    for (const bad of [[], null, 'x', 3, new Map(), new Config()]) {
      invalid(base({ invocationConfig: bad }), 'invocationConfig');
    }
  });

  it('rejects a non-boolean stream', () => {
    invalid(base({ invocationConfig: { stream: 'yes' } }), 'invocationConfig.stream');
    invalid(base({ invocationConfig: { stream: 1 } }), 'invocationConfig.stream');
  });

  it('rejects n other than 1', () => {
    invalid(base({ invocationConfig: { n: 2 } }), 'invocationConfig.n');
    invalid(base({ invocationConfig: { n: 0 } }), 'invocationConfig.n');
    invalid(base({ invocationConfig: { n: '1' } }), 'invocationConfig.n');
  });

  it('rejects promptTemplate together with promptFile', () => {
    const err = throwsSg(() => new LLMPromptArtifact(base({ promptFile: 'prompt.yaml' })), INVALID);
    expect(['promptFile', 'promptTemplate']).toContain(err.details.field);
    expect(err.details.key).toBe('p1');
  });

  it('rejects an empty or non-string promptFile', () => {
    invalid({ key: 'p1', modelUrl: 'embedded://demo', promptFile: '' }, 'promptFile');
    invalid({ key: 'p1', modelUrl: 'embedded://demo', promptFile: 5 }, 'promptFile');
  });

  it('rejects bad providerOptions types with SG_ERR_INVALID_OPTION', () => {
    const err = throwsSg(
      () => new LLMPromptArtifact(base({ providerOptions: { timeoutMs: -1 } })),
      'SG_ERR_INVALID_OPTION',
    );
    expect(err.details.field).toBe('providerOptions.timeoutMs');
    throwsSg(() => new LLMPromptArtifact(base({ providerOptions: { maxRetries: 1.5 } })), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new LLMPromptArtifact(base({ providerOptions: { headers: { a: 1 } } })), 'SG_ERR_INVALID_OPTION');
  });

  it('accepts an apiKey given in code', () => {
    const p = new LLMPromptArtifact(base({ providerOptions: { apiKey: 'sk-in-code' } }));
    expect(p.providerOptions.apiKey).toBe('sk-in-code');
  });
});
