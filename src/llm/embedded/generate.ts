import { fnv1a } from '../../util/fnv1a.js';
import { type ChatMessage, contentText } from '../chat.js';
import { o200k } from '../tokenizer.js';
import { type Followers, pairKey, type TrigramTables } from './trigram-model.js';

/** Generation settings the embedded model reads (OpenAI's names). */
export type GenerateConfig = {
  max_tokens?: unknown;
  temperature?: unknown;
  top_k?: unknown;
  seed?: unknown;
  stop?: unknown;
};

const MAX_TOKENS_DEFAULT = 64;
const MAX_TOKENS_CAP = 1024;
const MIN_TOKENS_BEFORE_STOP = 12;
const MAX_REJECTIONS = 8;

/** mulberry32: a small seeded PRNG in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);

/**
 * Generate token by token (llm.md section 3.6): context from the last user message, trigram candidates
 * backing off to bigrams then unigrams, prompt tokens weighted x3, top_k and temperature over a seeded
 * PRNG. Yields each token's text; returns the finish reason. The invariant: tokens yielded =
 * encode(answer).length, so a candidate that would merge on re-encoding is rejected.
 */
export function* generate(
  tables: TrigramTables,
  messages: readonly ChatMessage[],
  config: GenerateConfig,
): Generator<string, 'stop' | 'length'> {
  const { encode } = o200k();
  const maxTokens = Math.min(Math.max(0, Math.floor(num(config.max_tokens, MAX_TOKENS_DEFAULT))), MAX_TOKENS_CAP);
  const temperature = Math.max(0, num(config.temperature, 0.8));
  const topK = Math.max(1, Math.floor(num(config.top_k, 40)));
  const seed = typeof config.seed === 'number' ? config.seed >>> 0 : fnv1a(JSON.stringify([messages, config]));
  const stops = (
    typeof config.stop === 'string' ? [config.stop] : Array.isArray(config.stop) ? config.stop : []
  ).filter((s): s is string => typeof s === 'string' && s !== '');
  const random = prng(seed);
  const promptTokens = new Set<number>();
  for (const m of messages) for (const id of encode(contentText(m.content))) promptTokens.add(id);
  const source = [...messages].reverse().find((m) => m.role === 'user') ?? messages.at(-1);
  const context = source === undefined ? [] : encode(contentText(source.content)).slice(-2);
  let answer = '';
  let count = 0;
  while (count < maxTokens) {
    const candidates = ranked(tables, context, promptTokens, topK);
    let chosen: number | undefined;
    for (let tries = 0; tries < MAX_REJECTIONS && candidates.length > 0; tries++) {
      const i = pick(candidates, temperature, random);
      const id = candidates[i][0];
      const next = answer + (tables.text.get(id) ?? '');
      if (encode(next).length === count + 1) {
        chosen = id;
        break;
      }
      candidates.splice(i, 1); // it merges with what came before: draw another
    }
    if (chosen === undefined) return 'stop';
    const text = tables.text.get(chosen) ?? '';
    if (stops.some((s) => (answer + text).includes(s))) return 'stop';
    answer += text;
    count += 1;
    context.push(chosen);
    if (context.length > 2) context.shift();
    yield text;
    if (count >= MIN_TOKENS_BEFORE_STOP && /[.!?]$/.test(text.trimEnd())) return 'stop';
  }
  return 'length';
}

/** The top-k candidates after the context, by weight (ties to the lower token id). */
function ranked(
  t: TrigramTables,
  context: readonly number[],
  prompt: ReadonlySet<number>,
  k: number,
): Array<[number, number]> {
  let followers: Followers | undefined;
  if (context.length === 2) followers = t.trigrams.get(pairKey(context[0], context[1]));
  if (followers === undefined && context.length >= 1) followers = t.bigrams.get(context[context.length - 1]);
  followers ??= t.unigrams;
  const out: Array<[number, number]> = [];
  for (const [id, c] of followers) out.push([id, prompt.has(id) ? c * 3 : c]);
  out.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return out.length > k ? out.slice(0, k) : out;
}

/** An index into `c`: greedy at temperature 0, else weight^(1/T) sampling. */
function pick(c: ReadonlyArray<[number, number]>, temperature: number, random: () => number): number {
  if (temperature === 0 || c.length === 1) return 0; // ranked puts the lowest id first among ties
  const w = c.map(([, weight]) => weight ** (1 / temperature));
  let total = 0;
  for (const x of w) total += x;
  let r = random() * total;
  for (let i = 0; i < w.length; i++) {
    r -= w[i];
    if (r < 0) return i;
  }
  return w.length - 1;
}
