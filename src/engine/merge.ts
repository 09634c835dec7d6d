/**
 * The default merge of a stream's chunk bodies, in arrival order (streaming.md, "How it merges"):
 * strings concatenate, Uint8Arrays concatenate, arrays concatenate one level, anything else is the array.
 */
export function defaultMerge(chunks: readonly unknown[]): unknown {
  if (chunks.length === 0) return [];
  if (chunks.every((c) => typeof c === 'string')) return (chunks as string[]).join('');
  if (chunks.every((c) => c instanceof Uint8Array)) {
    const parts = chunks as Uint8Array[];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
  if (chunks.every((c) => Array.isArray(c))) return (chunks as unknown[][]).flat(1);
  return [...chunks];
}
