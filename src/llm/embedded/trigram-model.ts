import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { o200k } from '../tokenizer.js';

/** The corpus shipped with the package (assets/embedded/corpus, written for servegraph; see its LICENSE). */
export const CORPUS_DIR = fileURLToPath(new URL('../../../assets/embedded/corpus/', import.meta.url));

/** next token → count */
export type Followers = Map<number, number>;

/** Token trigram, bigram and unigram counts of a corpus in o200k_base tokens (llm.md section 3.6). */
export type TrigramTables = {
  readonly trigrams: Map<number, Followers>;
  readonly bigrams: Map<number, Followers>;
  readonly unigrams: Followers;
  /** token id → its text */
  readonly text: Map<number, string>;
  readonly tokens: number;
};

// o200k ids stay below 2^18: a pair of them is one exact number key
const PAIR = 2 ** 18;
export const pairKey = (a: number, b: number): number => a * PAIR + b;

function bump(m: Map<number, Followers>, key: number, next: number): void {
  let f = m.get(key);
  if (f === undefined) m.set(key, (f = new Map()));
  f.set(next, (f.get(next) ?? 0) + 1);
}

/** Count the n-grams of `texts` (each a paragraph: n-grams never cross two of them). */
export function buildTables(texts: readonly string[]): TrigramTables {
  const trigrams = new Map<number, Followers>();
  const bigrams = new Map<number, Followers>();
  const unigrams: Followers = new Map();
  const text = new Map<number, string>();
  let tokens = 0;
  const { encode, decode } = o200k();
  for (const t of texts) {
    const ids = encode(t);
    tokens += ids.length;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      unigrams.set(id, (unigrams.get(id) ?? 0) + 1);
      if (!text.has(id)) text.set(id, decode([id]));
      if (i >= 1) bump(bigrams, ids[i - 1], id);
      if (i >= 2) bump(trigrams, pairKey(ids[i - 2], ids[i - 1]), id);
    }
  }
  return { trigrams, bigrams, unigrams, text, tokens };
}

let shared: Promise<TrigramTables> | undefined;

/** The tables of the bundled corpus, built once per process (every embedded provider shares them). */
export function corpusTables(dir = CORPUS_DIR): Promise<TrigramTables> {
  if (dir !== CORPUS_DIR) return readCorpus(dir).then(buildTables);
  shared ??= readCorpus(dir).then(buildTables);
  shared.catch(() => {
    shared = undefined;
  });
  return shared;
}

async function readCorpus(dir: string): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.txt')).sort();
  const paragraphs: string[] = [];
  for (const f of files) {
    const body = await readFile(new URL(f, `file://${dir.endsWith('/') ? dir : `${dir}/`}`), 'utf8');
    for (const p of body.split(/\n\s*\n/)) {
      const clean = p.replace(/\s+/g, ' ').trim();
      if (clean) paragraphs.push(clean);
    }
  }
  return paragraphs;
}
