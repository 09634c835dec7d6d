import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ChatMessage, type LLMResult, SgError } from '../../src/index.js';
import type { EmbeddedProvider } from '../../src/llm/embedded/embedded-provider.js';
import { CORPUS_DIR, corpusTables } from '../../src/llm/embedded/trigram-model.js';
import { o200k } from '../../src/llm/tokenizer.js';
import { countChatTokens } from '../../src/llm/usage.js';
import { rejectsSg } from '../support/core.js';
import { collect, embedded, PROMPTS, user } from './embedded-support.js';

/** llm.md section 3.6: the embedded demo model's usage, failures, cancellation, pacing and tables. */

let p: EmbeddedProvider;
beforeAll(async () => {
  p = await embedded();
});

/** A prompt whose greedy continuation runs to max_tokens (never ends a sentence). */
const LOOPING = 'Tell me about the garden';

describe('usage', () => {
  const messages: ChatMessage[] = [
    { role: 'system', content: 'You are a gardener.', name: 'sys' },
    { role: 'user', content: 'What should I plant in spring?' },
  ];

  it('counts prompt_tokens by the chat formula, completion exactly, with no estimated key', async () => {
    const r = (await p.invoke(messages)) as LLMResult;
    expect(Object.keys(r).sort()).toEqual(['answer', 'usage']);
    expect(Object.keys(r.usage).sort()).toEqual(['completion_tokens', 'prompt_tokens', 'total_tokens']);
    expect(r.usage).not.toHaveProperty('estimated');
    expect(r.usage.prompt_tokens).toBe(countChatTokens(messages));
    expect(r.usage.completion_tokens).toBe(o200k().encode(r.answer).length);
    expect(r.usage.total_tokens).toBe(r.usage.prompt_tokens + r.usage.completion_tokens);
  });

  it('gives the same usage from invokeAsync and in the done part of a stream', async () => {
    const a = (await p.invoke(messages)) as LLMResult;
    expect(await p.invokeAsync(messages)).toEqual(a);
    const s = await collect(p, messages);
    expect(s.done.usage).toEqual(a.usage);
    expect(s.done.usage).not.toHaveProperty('estimated');
  });

  it('counts prompt tokens over content parts too', async () => {
    const parts: ChatMessage[] = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Plant ' },
          { type: 'text', text: 'beans' },
        ],
      },
    ];
    const r = (await p.invoke(parts)) as LLMResult;
    expect(r.usage.prompt_tokens).toBe(countChatTokens(parts));
  });
});

describe('response formats', () => {
  it("answers the text for 'string'", async () => {
    const r = (await p.invoke(user(PROMPTS[0]))) as LLMResult;
    expect(await p.invoke(user(PROMPTS[0]), {}, { responseFormat: 'string' })).toBe(r.answer);
    expect(await p.invokeAsync(user(PROMPTS[0]), {}, { responseFormat: 'string' })).toBe(r.answer);
  });

  it("answers {answer, usage} for 'usage' and by default", async () => {
    const r = await p.invoke(user(PROMPTS[1]), {}, { responseFormat: 'usage' });
    expect(r).toEqual(await p.invoke(user(PROMPTS[1])));
    expect(Object.keys(r as object).sort()).toEqual(['answer', 'usage']);
  });

  it("answers {answer, usage, tokens, finishReason} for 'full'", async () => {
    for (const method of ['invoke', 'invokeAsync'] as const) {
      const r = (await p[method](user(PROMPTS[2]), {}, { responseFormat: 'full' })) as Record<string, unknown>;
      expect(Object.keys(r).sort()).toEqual(['answer', 'finishReason', 'tokens', 'usage']);
      const tokens = r.tokens as string[];
      expect(tokens.join('')).toBe(r.answer);
      expect(tokens.length).toBe((r.usage as LLMResult['usage']).completion_tokens);
      expect(['stop', 'length']).toContain(r.finishReason);
    }
  });
});

describe('[[sg:fail]]', () => {
  it('fails invoke, invokeAsync and stream at once with SG_ERR_PROVIDER_HTTP, status 500', async () => {
    const slow = await embedded({ tokenDelayMs: 1000 });
    const failing: ChatMessage[][] = [
      user('please [[sg:fail]] now'),
      [
        { role: 'system', content: '[[sg:fail]]' },
        { role: 'user', content: 'hello' },
      ],
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'x [[sg:' },
            { type: 'text', text: 'fail]] y' },
          ],
        },
      ],
    ];
    for (const messages of failing) {
      const started = Date.now();
      for (const call of [
        () => slow.invoke(messages),
        () => slow.invokeAsync(messages),
        () => collect(slow, messages),
      ]) {
        const err = await rejectsSg(call, 'SG_ERR_PROVIDER_HTTP');
        expect(err.details.status).toBe(500);
      }
      // three calls, each well under one token's delay
      expect(Date.now() - started).toBeLessThan(1000);
    }
  });

  it('yields no delta before failing a stream', async () => {
    const deltas: string[] = [];
    await rejectsSg(async () => {
      for await (const part of p.stream(user('[[sg:fail]]'))) if (part.type === 'delta') deltas.push(part.text);
    }, 'SG_ERR_PROVIDER_HTTP');
    expect(deltas).toEqual([]);
  });

  it('fails with no tables loaded yet (before load)', async () => {
    const { EmbeddedProvider } = await import('../../src/llm/embedded/embedded-provider.js');
    const fresh = new EmbeddedProvider({ scheme: 'embedded', model: 'demo', options: {}, defaultConfig: {} });
    await rejectsSg(fresh.invoke(user('[[sg:fail]]')), 'SG_ERR_PROVIDER_HTTP');
  });
});

describe('cancellation', () => {
  it('aborts a stream between tokens with SG_ERR_ABORTED and the partial answer and usage', async () => {
    const slow = await embedded({ tokenDelayMs: 20 });
    const ac = new AbortController();
    const reason = new SgError('SG_ERR_CLIENT_CLOSED', 'client gone');
    const got: string[] = [];
    const messages = user(LOOPING);
    const err = await rejectsSg(async () => {
      for await (const part of slow.stream(messages, { temperature: 0 }, { signal: ac.signal })) {
        if (part.type === 'delta') {
          got.push(part.text);
          if (got.length === 3) ac.abort(reason);
        }
      }
    }, 'SG_ERR_ABORTED');
    expect(err.cause).toBe(reason);
    const partial = err.details.partial as LLMResult;
    expect(got).toHaveLength(3);
    expect(partial.answer).toBe(got.join(''));
    expect(partial.usage.completion_tokens).toBe(3);
    expect(partial.usage.prompt_tokens).toBe(countChatTokens(messages));
    expect(partial.usage.total_tokens).toBe(partial.usage.prompt_tokens + 3);
  });

  it('aborts while waiting for the next token, promptly', async () => {
    const slow = await embedded({ tokenDelayMs: 20 });
    const ac = new AbortController();
    const got: string[] = [];
    let abortedAt = 0;
    setTimeout(() => {
      abortedAt = Date.now();
      ac.abort();
    }, 90);
    const err = await rejectsSg(async () => {
      for await (const part of slow.stream(user(LOOPING), { temperature: 0 }, { signal: ac.signal })) {
        if (part.type === 'delta') got.push(part.text);
      }
    }, 'SG_ERR_ABORTED');
    expect(Date.now() - abortedAt).toBeLessThan(500);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(64);
    const partial = err.details.partial as LLMResult;
    expect(partial.usage.completion_tokens).toBe(got.length);
    expect(partial.answer).toBe(got.join(''));
  });

  it('aborts invokeAsync with the usage of the tokens made so far', async () => {
    const slow = await embedded({ tokenDelayMs: 20 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 90);
    const err = await rejectsSg(
      slow.invokeAsync(user(LOOPING), { temperature: 0 }, { signal: ac.signal }),
      'SG_ERR_ABORTED',
    );
    const partial = err.details.partial as LLMResult;
    const whole = (await p.invoke(user(LOOPING), { temperature: 0 })) as LLMResult;
    expect(partial.usage.completion_tokens).toBeGreaterThan(0);
    expect(partial.usage.completion_tokens).toBeLessThan(whole.usage.completion_tokens);
    expect(partial.usage.completion_tokens).toBe(o200k().encode(partial.answer).length);
    expect(whole.answer.startsWith(partial.answer)).toBe(true);
  });

  it('rejects invoke and invokeAsync with an aborted signal, with an empty partial', async () => {
    const reason = new Error('deadline');
    for (const method of ['invoke', 'invokeAsync'] as const) {
      const err = await rejectsSg(
        p[method](user(PROMPTS[0]), {}, { signal: AbortSignal.abort(reason) }),
        'SG_ERR_ABORTED',
      );
      expect(err.cause).toBe(reason);
      const partial = err.details.partial as LLMResult;
      expect(partial.answer).toBe('');
      expect(partial.usage.completion_tokens).toBe(0);
    }
  });
});

describe('pacing', () => {
  it('invokeAsync yields to the event loop: an earlier setImmediate runs before it resolves', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('immediate'));
    await p.invokeAsync(user(PROMPTS[3])).then(() => order.push('resolved'));
    expect(order).toEqual(['immediate', 'resolved']);
  });

  it('invokeAsync yields about once per token', async () => {
    let ticks = 0;
    let running = true;
    const tick = () => {
      ticks += 1;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const r = (await p.invokeAsync(user(LOOPING), { temperature: 0, max_tokens: 40 })) as LLMResult;
    running = false;
    expect(r.usage.completion_tokens).toBe(40);
    expect(ticks).toBeGreaterThanOrEqual(20);
  });

  it('a stream lets due timers run between tokens', async () => {
    let fired = false;
    setTimeout(() => {
      fired = true;
    }, 1);
    const firedAt: boolean[] = [];
    for await (const part of p.stream(user(LOOPING), { temperature: 0, max_tokens: 30 })) {
      if (part.type !== 'delta') continue;
      firedAt.push(fired);
      if (firedAt.length === 1) {
        // make sure the timer is due, whatever the speed of the machine
        const until = Date.now() + 5;
        while (Date.now() < until) {}
      }
    }
    expect(firedAt).toHaveLength(30);
    expect(firedAt[4]).toBe(true);
  });

  it('tokenDelayMs paces the tokens', async () => {
    const slow = await embedded({ tokenDelayMs: 20 });
    const started = Date.now();
    const r = (await slow.invokeAsync(user(LOOPING), { temperature: 0, max_tokens: 5 })) as LLMResult;
    expect(r.usage.completion_tokens).toBe(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(60);
  });
});

describe('tables', () => {
  it('are built once per process and shared by every provider', async () => {
    expect(corpusTables()).toBe(corpusTables());
    const a = await embedded();
    const started = Date.now();
    const b = await embedded();
    expect(Date.now() - started).toBeLessThan(250);
    const shared = await corpusTables();
    expect(Reflect.get(a, 'tables')).toBe(shared);
    expect(Reflect.get(b, 'tables')).toBe(shared);
    await b.load();
    expect(Reflect.get(b, 'tables')).toBe(shared);
  });

  it('come from a bundled corpus of 200 KB to 2 MB', () => {
    const bytes = readdirSync(CORPUS_DIR)
      .filter((f) => f.endsWith('.txt'))
      .reduce((n, f) => n + statSync(join(CORPUS_DIR, f)).size, 0);
    expect(bytes).toBeGreaterThanOrEqual(200_000);
    expect(bytes).toBeLessThanOrEqual(2_000_000);
  });
});
