/** 32-bit FNV-1a of a string's UTF-16 code units: a cheap, stable hash (embedded-model seeds, I/O sampling). */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
