import { beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/index.js';
import type { EmbeddedProvider } from '../../src/llm/embedded/embedded-provider.js';
import { o200k } from '../../src/llm/tokenizer.js';
import { collect, embedded, full, fullAsync, PROMPTS, user } from './embedded-support.js';

/** llm.md section 3.6: the embedded demo model's generation (determinism, invariant, settings). */

let p: EmbeddedProvider;
beforeAll(async () => {
  p = await embedded();
});

const SENTENCE_END = /[.!?]$/;
const endsSentence = (token: string) => SENTENCE_END.test(token.trimEnd());
/** A prompt whose greedy continuation loops without ever ending a sentence. */
const LOOPING = 'Tell me about the garden';

describe('determinism', () => {
  it('gives equal answers to equal calls, with invoke, invokeAsync and stream', async () => {
    for (const q of PROMPTS.slice(0, 4)) {
      const a = await full(p, user(q));
      const b = await full(p, user(q));
      const c = await fullAsync(p, user(q));
      const d = await fullAsync(p, user(q));
      const s1 = await collect(p, user(q));
      const s2 = await collect(p, user(q));
      expect(b).toEqual(a);
      expect(c).toEqual(a);
      expect(d).toEqual(a);
      expect(s1.deltas).toEqual(a.tokens);
      expect(s2.deltas).toEqual(a.tokens);
      expect(s2.done).toEqual(s1.done);
    }
  });

  it('gives equal answers from two providers', async () => {
    const other = await embedded();
    for (const q of PROMPTS.slice(4, 7)) expect(await full(other, user(q))).toEqual(await full(p, user(q)));
  });

  it('gives equal answers for equal config objects', async () => {
    const config = { temperature: 1.1, top_k: 20, max_tokens: 30 };
    expect(await full(p, user(PROMPTS[1]), { ...config })).toEqual(await full(p, user(PROMPTS[1]), { ...config }));
  });
});

describe('the invariant: deltas = completion_tokens = encode(answer).length', () => {
  it('holds over many prompts and temperatures, streamed and not', async () => {
    const { encode } = o200k();
    let checked = 0;
    for (const q of PROMPTS) {
      for (const temperature of [0, 0.3, 0.8, 1.5, 3]) {
        const s = await collect(p, user(q), { temperature });
        expect(s.deltas.length, `${q} @${temperature}`).toBe(s.done.usage.completion_tokens);
        expect(encode(s.done.answer).length, `${q} @${temperature}`).toBe(s.deltas.length);
        expect(s.deltas.join('')).toBe(s.done.answer);
        for (const d of s.deltas) expect(d).not.toBe('');
        const f = await full(p, user(q), { temperature, seed: checked });
        expect(f.tokens.length).toBe(f.usage.completion_tokens);
        expect(encode(f.answer).length).toBe(f.tokens.length);
        checked += 1;
      }
    }
    expect(checked).toBe(PROMPTS.length * 5);
  });

  it('holds for unusual prompts: several messages, no user message, empty text, unicode, content parts', async () => {
    const { encode } = o200k();
    const cases = [
      [
        { role: 'system', content: 'You write about gardens.' },
        { role: 'user', content: 'Plant some tomatoes' },
        { role: 'assistant', content: 'Sure.' },
      ],
      [{ role: 'system', content: 'Only a system message about bread' }],
      [{ role: 'user', content: '' }],
      [{ role: 'user', content: 'Größe, naïve café 🙂 — 日本語のテキスト' }],
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Travel by ' },
            { type: 'text', text: 'train' },
          ],
        },
      ],
      [{ role: 'user', content: '{"json": [1, 2, 3]}\n\n\t' }],
    ];
    for (const messages of cases) {
      for (const temperature of [0, 0.8, 2]) {
        const s = await collect(p, messages, { temperature });
        expect(s.deltas.length).toBe(s.done.usage.completion_tokens);
        expect(encode(s.done.answer).length).toBe(s.deltas.length);
      }
    }
  });
});

describe('prompts and seeds', () => {
  it('gives different answers to prompts with different last words', async () => {
    const answers = await Promise.all(PROMPTS.map(async (q) => (await full(p, user(q))).answer));
    expect(new Set(answers).size).toBe(PROMPTS.length);
  });

  it('streams the same answer as a non-streamed call for the same input and seed', async () => {
    for (const q of PROMPTS) {
      for (const config of [{}, { seed: 12345 }, { seed: 7, temperature: 1.2 }]) {
        const f = await full(p, user(q), config);
        const s = await collect(p, user(q), config);
        expect(s.deltas.join('')).toBe(f.answer);
        expect(s.deltas).toEqual(f.tokens);
        expect(s.done.answer).toBe(f.answer);
        expect(s.done.usage).toEqual(f.usage);
        expect(s.done.finishReason).toBe(f.finishReason);
      }
    }
  });

  it('changes the answer with the seed, and repeats it for the same seed', async () => {
    const q = PROMPTS[2];
    const answers = [];
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const a = (await full(p, user(q), { seed })).answer;
      expect((await full(p, user(q), { seed })).answer).toBe(a);
      answers.push(a);
    }
    expect(new Set(answers).size).toBeGreaterThan(1);
    expect(answers[0]).not.toBe(answers[1]);
  });

  it('is greedy at temperature 0: the same answer whatever the seed', async () => {
    for (const q of PROMPTS.slice(0, 5)) {
      const base = await full(p, user(q), { temperature: 0 });
      for (const seed of [1, 99, 123456789]) {
        expect((await full(p, user(q), { temperature: 0, seed })).answer).toBe(base.answer);
      }
    }
  });
});

describe('stopping', () => {
  it('stops at max_tokens 64 by default, with finishReason length', async () => {
    const f = await full(p, user(LOOPING), { temperature: 0 });
    expect(f.finishReason).toBe('length');
    expect(f.usage.completion_tokens).toBe(64);
  });

  it('respects max_tokens', async () => {
    for (const q of PROMPTS.slice(0, 5)) {
      const f = await full(p, user(q), { max_tokens: 5 });
      expect(f.finishReason, q).toBe('length');
      expect(f.usage.completion_tokens).toBe(5);
      expect(f.tokens).toHaveLength(5);
      const s = await collect(p, user(q), { max_tokens: 5 });
      expect(s.deltas).toHaveLength(5);
      expect(s.done.finishReason).toBe('length');
    }
  });

  it('clamps max_tokens above 1024', async () => {
    const f = await full(p, user(LOOPING), { temperature: 0, max_tokens: 5000 });
    expect(f.finishReason).toBe('length');
    expect(f.usage.completion_tokens).toBe(1024);
    expect(o200k().encode(f.answer).length).toBe(1024);
  });

  it('never lets a stop string appear in the answer, stopping just before it', async () => {
    for (const q of PROMPTS.slice(0, 6)) {
      const seed = 7;
      const free = await full(p, user(q), { seed, max_tokens: 200 });
      // a stop string the free answer holds: a word from its middle
      const words = free.answer.split(' ').filter((w) => /^[a-z]{3,}$/.test(w));
      const stop = ` ${words[Math.floor(words.length / 2)]}`;
      expect(free.answer).toContain(stop);
      for (const stopConfig of [stop, [stop, 'zzzzqqq']]) {
        const cut = await full(p, user(q), { seed, max_tokens: 200, stop: stopConfig });
        expect(cut.answer).not.toContain(stop);
        expect(cut.finishReason).toBe('stop');
        // the same draws up to the stop string
        expect(free.answer.startsWith(cut.answer)).toBe(true);
        expect(free.answer.indexOf(stop)).toBeGreaterThanOrEqual(cut.answer.length);
        const s = await collect(p, user(q), { seed, max_tokens: 200, stop: stopConfig });
        expect(s.done.answer).toBe(cut.answer);
      }
    }
  });

  it('ignores a stop string that never comes', async () => {
    const seed = 3;
    const free = await full(p, user(PROMPTS[0]), { seed });
    expect(await full(p, user(PROMPTS[0]), { seed, stop: 'qqqzzz-never' })).toEqual(free);
  });

  it('stops after a sentence end only once 12 tokens exist', async () => {
    let stoppedAtSentence = 0;
    let continuedEarlySentence = 0;
    for (const q of PROMPTS) {
      for (const temperature of [0.5, 0.8, 1.2]) {
        const f = await full(p, user(q), { temperature, max_tokens: 300 });
        const { tokens } = f;
        // no token from the 12th on, but the last, ends a sentence
        for (let i = 11; i < tokens.length - 1; i++) expect(endsSentence(tokens[i]), `${q}: ${f.answer}`).toBe(false);
        if (f.finishReason === 'stop' && tokens.length >= 12 && endsSentence(tokens.at(-1)!)) stoppedAtSentence += 1;
        if (tokens.slice(0, 11).some(endsSentence) && tokens.length > 12) continuedEarlySentence += 1;
      }
    }
    expect(stoppedAtSentence).toBeGreaterThan(PROMPTS.length);
    expect(continuedEarlySentence).toBeGreaterThan(0);
  });
});

describe('context and defaults', () => {
  const S = 'How do I cook rice';
  const A = 'Explain the stock market';
  const greedy = async (messages: ChatMessage[]) => (await full(p, messages, { temperature: 0 })).answer;

  it('continues the last user message, wherever other messages stand', async () => {
    const sysFirst = await greedy([
      { role: 'system', content: S },
      { role: 'user', content: A },
    ]);
    const sysLast = await greedy([
      { role: 'user', content: A },
      { role: 'system', content: S },
    ]);
    expect(sysLast).toBe(sysFirst);
    const otherOrder = await greedy([
      { role: 'user', content: A },
      { role: 'user', content: S },
    ]);
    expect(otherOrder).not.toBe(sysFirst);
  });

  it('continues the last message when none is from the user', async () => {
    const last = await greedy([
      { role: 'system', content: S },
      { role: 'assistant', content: A },
    ]);
    expect(last).toBe(
      await greedy([
        { role: 'system', content: S },
        { role: 'user', content: A },
      ]),
    );
    expect(
      await greedy([
        { role: 'assistant', content: A },
        { role: 'system', content: S },
      ]),
    ).not.toBe(last);
  });

  it('defaults temperature to 0.8, top_k to 40 and max_tokens to 64', async () => {
    const base = await full(p, user(A), { seed: 5 });
    for (const explicit of [{ temperature: 0.8 }, { top_k: 40 }, { max_tokens: 64 }]) {
      expect(await full(p, user(A), { seed: 5, ...explicit })).toEqual(base);
    }
  });

  it('is greedy with top_k 1, as at temperature 0', async () => {
    for (const q of PROMPTS.slice(0, 4)) {
      expect((await full(p, user(q), { top_k: 1, seed: 11 })).answer).toBe(await greedy(user(q)));
    }
  });

  it('merges config over the defaultConfig of the provider', async () => {
    const withDefaults = await embedded({}, { temperature: 0, max_tokens: 7 });
    const f = await full(withDefaults, user(A));
    expect(f.usage.completion_tokens).toBe(7);
    expect(f.answer).toBe((await full(p, user(A), { temperature: 0, max_tokens: 7 })).answer);
    expect((await full(withDefaults, user(A), { max_tokens: 3 })).usage.completion_tokens).toBe(3);
  });
});
