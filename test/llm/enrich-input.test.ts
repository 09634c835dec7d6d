import { describe, expect, it } from 'vitest';
import { LLMPromptArtifact } from '../../src/index.js';
import { enrich } from '../../src/llm/enrich.js';
import { throwsSg } from '../support/core.js';
import { deepFreeze, only, prompt, settings } from './enrich-support.js';

/** llm.md section 2.2: missing values, input shape, messages without a template, invocationConfig. */

describe('missing placeholder values', () => {
  const legend = { city: { field: 'trip.destination', description: 'City to visit' } };

  it("'error' (the default) fails with SG_ERR_PROMPT_PLACEHOLDER_MISSING naming placeholder, field and description", () => {
    const err = throwsSg(
      () => enrich({ trip: {} }, prompt('Plan a day in {city}', legend), settings()),
      'SG_ERR_PROMPT_PLACEHOLDER_MISSING',
    );
    expect(err.details).toMatchObject({ placeholder: 'city', field: 'trip.destination', description: 'City to visit' });
    expect(err.endpoint).toBe('finance');
    expect(err.message).toContain('finance');
    expect(err.message).toContain('city');
    expect(err.message).toContain('trip.destination');
    expect(err.message).toContain('City to visit');
  });

  it("'error' names the placeholder's own name as field without a legend entry", () => {
    const err = throwsSg(() => enrich({}, prompt('Hi {name}'), settings()), 'SG_ERR_PROMPT_PLACEHOLDER_MISSING');
    expect(err.details.placeholder).toBe('name');
    expect(err.details.field).toBe('name');
    expect(err.message).toContain('name');
  });

  it("'error' counts null and undefined as missing, and a path through a primitive", () => {
    for (const input of [{ name: null }, { name: undefined }]) {
      throwsSg(() => enrich(input, prompt('Hi {name}'), settings()), 'SG_ERR_PROMPT_PLACEHOLDER_MISSING');
    }
    throwsSg(
      () => enrich({ client: 'Ana' }, prompt('Hi {name}', { name: { field: 'client.name' } }), settings()),
      'SG_ERR_PROMPT_PLACEHOLDER_MISSING',
    );
  });

  it('does not read inherited properties as values', () => {
    const input = Object.create({ name: 'from the prototype' }) as Record<string, unknown>;
    throwsSg(() => enrich(input, prompt('Hi {name}'), settings()), 'SG_ERR_PROMPT_PLACEHOLDER_MISSING');
    throwsSg(() => enrich({}, prompt('{toString}'), settings()), 'SG_ERR_PROMPT_PLACEHOLDER_MISSING');
  });

  it("'keep' leaves {name} in the text and warns", () => {
    const s = settings({ onMissing: 'keep' });
    const out = enrich({ other: 1 }, prompt('Plan a day in {city} for {who}', legend), s);
    expect(only(out.messages)).toBe('Plan a day in {city} for {who}');
    expect(s.warnings.length).toBeGreaterThanOrEqual(1);
    expect(s.warnings.join('\n')).toContain('city');
    expect(s.warnings.join('\n')).toContain('who');
  });

  it("'keep' fills the placeholders that have values", () => {
    const s = settings({ onMissing: 'keep' });
    expect(only(enrich({ who: 'Bo' }, prompt('{city}/{who}', legend), s).messages)).toBe('{city}/Bo');
  });

  it("'empty' inserts '' and does not warn", () => {
    const s = settings({ onMissing: 'empty' });
    expect(only(enrich({}, prompt('[{city}] [{who}]', legend), s).messages)).toBe('[] []');
    expect(s.warnings).toEqual([]);
  });
});

describe('input shape', () => {
  it('needs an object when the template has placeholders: SG_ERR_LLM_INPUT', () => {
    for (const input of [['a', 'b'], 'text', 42, null, undefined, true]) {
      const err = throwsSg(() => enrich(input, prompt('Hi {name}'), settings()), 'SG_ERR_LLM_INPUT');
      expect(err.message).toContain('expected an object');
      expect(err.endpoint).toBe('finance');
    }
  });

  it("names what it got, e.g. an array ('got array')", () => {
    const err = throwsSg(() => enrich([1, 2], prompt('Hi {name}'), settings()), 'SG_ERR_LLM_INPUT');
    expect(err.message).toMatch(/got an? array/);
  });

  it('accepts any input with a template without placeholders', () => {
    const p = prompt([
      { role: 'system', content: 'Be brief. Use {"json": true}, {{literal}}.' },
      { role: 'user', content: 'Tell me a fact.' },
    ]);
    for (const input of [['a'], 'text', 42, null, undefined, {}, { messages: 'ignored' }]) {
      const out = enrich(input, p, settings());
      expect(out.messages).toEqual([
        { role: 'system', content: 'Be brief. Use {"json": true}, {literal}.' },
        { role: 'user', content: 'Tell me a fact.' },
      ]);
    }
  });
});

describe('no template: messages from the input', () => {
  const noTemplate = () => new LLMPromptArtifact({ key: 'bare', modelUrl: 'embedded://demo' });

  for (const [label, artifact] of [
    ['no artifact', () => undefined],
    ['an artifact without a template', noTemplate],
  ] as const) {
    it(`reads input.messages with ${label}`, () => {
      const messages = [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello {name}', name: 'ana' },
      ];
      const out = enrich({ messages, name: 'X' }, artifact(), settings());
      // no formatting without a template
      expect(out.messages).toEqual(messages);
    });
  }

  it('accepts OpenAI content-part arrays', () => {
    const content = [
      { type: 'text', text: 'What is in ' },
      { type: 'image_url', image_url: { url: 'http://example.invalid/a.png' } },
    ];
    const out = enrich({ messages: [{ role: 'user', content }] }, undefined, settings());
    expect(out.messages).toEqual([{ role: 'user', content }]);
  });

  it("rejects missing, empty or bad messages with SG_ERR_LLM_INPUT ('messages': a list of {role, content})", () => {
    const bad: unknown[] = [
      {},
      { messages: [] },
      { messages: 'hello' },
      { messages: { role: 'user', content: 'x' } },
      { messages: [null] },
      { messages: ['hello'] },
      { messages: [{ role: '', content: 'x' }] },
      { messages: [{ content: 'x' }] },
      { messages: [{ role: 'user', content: 5 }] },
      { messages: [{ role: 'user' }] },
      { messages: [{ role: 'user', content: [1, 2] }] },
      { messages: [{ role: 'user', content: 'x', name: 3 }] },
      [{ role: 'user', content: 'x' }],
      'hello',
      null,
      undefined,
    ];
    for (const input of bad) {
      const err = throwsSg(() => enrich(input, undefined, settings()), 'SG_ERR_LLM_INPUT');
      expect(err.message, JSON.stringify(input)).toContain("expected 'messages'");
      expect(err.endpoint).toBe('finance');
    }
    throwsSg(() => enrich({}, noTemplate(), settings()), 'SG_ERR_LLM_INPUT');
  });

  it('does not mutate or share the input messages', () => {
    const input = deepFreeze({ messages: [{ role: 'user', content: 'hi' }] });
    const out = enrich(input, undefined, settings());
    expect(out.messages).toEqual(input.messages);
    out.messages[0].content = 'changed';
    expect(input.messages[0].content).toBe('hi');
  });
});

describe('invocationConfig', () => {
  const defaults = { temperature: 0.1, max_tokens: 10, top_p: 0.9, stream: true };

  it('merges defaultConfig < invocationConfig, without stream', () => {
    const p = prompt('x', {}, { temperature: 0.5, stop: ['\n'] });
    const out = enrich({}, p, settings({ defaultConfig: defaults }));
    expect(out.invocationConfig).toEqual({ temperature: 0.5, max_tokens: 10, top_p: 0.9, stop: ['\n'] });
  });

  it('removes stream wherever it comes from', () => {
    const out = enrich({}, prompt('x', {}, { stream: true }), settings({ defaultConfig: { stream: false } }));
    expect(out.invocationConfig).toEqual({});
    expect(out.invocationConfig).not.toHaveProperty('stream');
  });

  it('lets listed request keys override both, only when the input has them not undefined', () => {
    const p = prompt('{q}', {}, { temperature: 0.5, max_tokens: 20 });
    const s = settings({ defaultConfig: defaults, requestConfig: ['temperature', 'seed', 'top_k'] });
    const out = enrich({ q: 'x', temperature: 0.9, max_tokens: 999, seed: undefined }, p, s);
    expect(out.invocationConfig).toEqual({ temperature: 0.9, max_tokens: 20, top_p: 0.9 });
    expect(out.invocationConfig).not.toHaveProperty('seed');
    expect(out.invocationConfig).not.toHaveProperty('top_k');
  });

  it('passes a requested null on (only undefined counts as absent)', () => {
    const s = settings({ requestConfig: ['stop'], defaultConfig: { stop: ['.'] } });
    expect(enrich({ stop: null }, prompt('x'), s).invocationConfig).toEqual({ stop: null });
  });

  it('takes nothing from the input by default', () => {
    const out = enrich(
      { temperature: 2, max_tokens: 1, stream: true },
      prompt('x'),
      settings({ defaultConfig: defaults }),
    );
    expect(out.invocationConfig).toEqual({ temperature: 0.1, max_tokens: 10, top_p: 0.9 });
  });

  it('reads requested keys with messages from the input too', () => {
    const s = settings({ requestConfig: ['temperature', 'max_tokens'] });
    const out = enrich({ messages: [{ role: 'user', content: 'hi' }], temperature: 0 }, undefined, s);
    expect(out.invocationConfig).toEqual({ temperature: 0 });
  });

  it('gives a fresh object each call, never the artifact or defaults themselves', () => {
    const defaultConfig = deepFreeze({ temperature: 0.1 });
    const p = prompt('x', {}, { max_tokens: 5 });
    const first = enrich({}, p, settings({ defaultConfig }));
    first.invocationConfig.max_tokens = 999;
    first.invocationConfig.extra = true;
    expect(enrich({}, p, settings({ defaultConfig })).invocationConfig).toEqual({ temperature: 0.1, max_tokens: 5 });
    expect(p.invocationConfig).toEqual({ max_tokens: 5 });
  });
});

describe('the input is never mutated', () => {
  it('with a template, legend paths and requested keys', () => {
    const input = deepFreeze({
      q: 'Are rates going up?',
      client: { name: 'Ana', meta: { tier: 2 } },
      temperature: 0.4,
      list: [1, { a: 'b' }],
    });
    const before = structuredClone(input);
    const p = prompt(
      [
        { role: 'system', content: 'Tier {tier}. {list}' },
        { role: 'user', content: 'Client {name} asks: {q}' },
      ],
      { name: { field: 'client.name' }, tier: { field: 'client.meta.tier' } },
      { stream: true },
    );
    const out = enrich(input, p, settings({ requestConfig: ['temperature'] }));
    expect(out.messages.map((m) => m.content)).toEqual([
      'Tier 2. [1,{"a":"b"}]',
      'Client Ana asks: Are rates going up?',
    ]);
    expect(out.invocationConfig).toEqual({ temperature: 0.4 });
    expect(input).toEqual(before);
  });

  it("in 'keep' and 'empty' modes", () => {
    const input = deepFreeze({ a: { b: null } });
    for (const onMissing of ['keep', 'empty'] as const) {
      expect(() => enrich(input, prompt('{x} {y}', { x: { field: 'a.b.c' } }), settings({ onMissing }))).not.toThrow();
    }
    expect(input).toEqual({ a: { b: null } });
  });
});
