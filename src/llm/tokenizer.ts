import { createRequire } from 'node:module';

type Encoding = { encode(text: string): number[]; decode(ids: number[]): string };

const require = createRequire(import.meta.url);
let loaded: Encoding | undefined;

/**
 * gpt-tokenizer's o200k_base encoding, loaded on first use: its tables take about 0.3 s to load, which
 * a graph with no LLM, or a worker that never counts, should not pay at import.
 */
export function o200k(): Encoding {
  loaded ??= require('gpt-tokenizer/encoding/o200k_base') as Encoding;
  return loaded;
}
