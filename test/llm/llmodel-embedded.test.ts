// LLModel with the embedded demo model end to end (llm.md sections 3.6 and 5): no server, a deterministic
// answer, exact usage, and a streamed answer equal to the non-streamed one. thread_pool loads dist/.
import { describe, expect, test } from 'vitest';
import { LLMPromptArtifact } from '../../src/index.js';
import { countChatTokens, countTokens } from '../../src/llm/usage.js';
import { callRecords, drain, llmGraph, type Mechanism, rejectsWithin, useServers } from './llmodel-fixtures.js';

const serve = useServers();

type Result = { answer: string; usage: Record<string, unknown> };

const demo = (stream = false, extra: Record<string, unknown> = {}) =>
  new LLMPromptArtifact({
    key: 'demo-prompt',
    modelUrl: 'embedded://demo',
    promptTemplate: [
      { role: 'system', content: 'You write calm prose.' },
      { role: 'user', content: 'Tell me about {topic}' },
    ],
    invocationConfig: stream ? { stream: true, max_tokens: 24 } : { max_tokens: 24 },
    ...extra,
  });

/** The exact usage of the embedded model for `topic` and its answer (llm.md section 4). */
function expectedUsage(topic: string, answer: string) {
  const prompt = countChatTokens([
    { role: 'system', content: 'You write calm prose.' },
    { role: 'user', content: `Tell me about ${topic}` },
  ]);
  const completion = countTokens(answer);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

describe('LLModel with embedded://demo', () => {
  for (const mechanism of ['asyncio', 'thread_pool'] as Mechanism[]) {
    test(`${mechanism}: equal bodies give equal answers, with the exact usage and no 'estimated'`, async () => {
      const s = serve(llmGraph('demo', demo(), { mechanism, resultPath: 'out' }).graph);
      const first = (await s.test('/', { topic: 'the quiet sea' })) as { topic: string; out: Result };
      const again = (await s.test('/', { topic: 'the quiet sea' })) as { topic: string; out: Result };
      expect(again).toEqual(first);
      const { answer, usage } = first.out;
      expect(typeof answer).toBe('string');
      expect(answer.length).toBeGreaterThan(0);
      expect(usage).toEqual(expectedUsage('the quiet sea', answer));
      expect(usage.completion_tokens).toBeGreaterThan(0);
      expect(usage.completion_tokens).toBeLessThanOrEqual(24);
      const other = (await s.test('/', { topic: 'mountains, rivers and old stone bridges' })) as { out: Result };
      expect(other.out.answer).not.toBe(answer);
      const calls = await callRecords(s, 'demo', 3);
      expect(calls[2]).toMatchObject({ outcome: 'ok', usageEstimated: false, promptTokens: usage.prompt_tokens });
    });

    test(`${mechanism}: the streamed deltas joined equal the non-streamed answer for the same body`, async () => {
      const body = { topic: 'a lighthouse at night' };
      const plain = serve(llmGraph('plain', demo(), { mechanism }).graph);
      const direct = (await plain.test('/', body)) as Result;
      const streaming = serve(llmGraph('streamed', demo(true), { mechanism }).graph);
      const st = streaming.testStream('/', body);
      const deltas = (await drain(st)) as string[];
      const done = await st.done;
      expect(deltas.length).toBeGreaterThan(0);
      for (const d of deltas) expect(d).not.toBe('');
      expect(deltas.join('')).toBe(direct.answer);
      // the invariant: one delta per completion token
      expect(done).toMatchObject({ chunks: deltas.length, usage: direct.usage });
      expect(deltas.length).toBe(direct.usage.completion_tokens);
      expect(['stop', 'length']).toContain(done.finishReason);
      // collected, the stream is the non-streamed result
      expect(await streaming.test('/', body)).toEqual(direct);
    });
  }

  test('the same body gives the same answer under asyncio and thread_pool', async () => {
    const body = { topic: 'autumn leaves' };
    const inline = await serve(llmGraph('inline', demo()).graph).test('/', body);
    const pooled = await serve(llmGraph('pooled', demo(), { mechanism: 'thread_pool' }).graph).test('/', body);
    expect(pooled).toEqual(inline);
  });

  test('a message holding [[sg:fail]] fails the call with SG_ERR_PROVIDER_HTTP (502)', async () => {
    const s = serve(llmGraph('demo', demo()).graph);
    await rejectsWithin(s.test('/', { topic: 'x [[sg:fail]]' }), 'SG_ERR_PROVIDER_HTTP', 502);
    expect(await s.test('/', { topic: 'calm water' })).toMatchObject({ answer: expect.any(String) });
  });

  test('embedded:// (no model id) means embedded://demo: the same answer', async () => {
    const a = serve(llmGraph('a', demo()).graph);
    const b = serve(llmGraph('b', demo(false, { key: 'short', modelUrl: 'embedded://' })).graph);
    const body = { topic: 'green hills' };
    expect(await b.test('/', body)).toEqual(await a.test('/', body));
  });
});
