import { randomFillSync } from 'node:crypto';

/** Random bytes for 256 ids, refilled when used up (crypto.randomUUID buffers the same way). */
const pool = Buffer.alloc(16 * 256);
let used = pool.length;
/** the 36 characters of the id being written */
const text = Buffer.alloc(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/**
 * A random (version 4) UUID, as `crypto.randomUUID()` makes, but as one flat string: randomUUID's is
 * concatenated from pieces, which every regular expression run on it (Node checks each response header
 * value with one) must first copy into one, the slow way. This id is echoed in every response.
 */
export function newRequestId(): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  let at = 0;
  for (let i = 0; i < 16; i++) {
    let byte = pool[used + i]!;
    if (i === 6)
      byte = (byte & 0x0f) | 0x40; // version 4
    else if (i === 8) byte = (byte & 0x3f) | 0x80; // RFC 4122 variant
    if (i === 4 || i === 6 || i === 8 || i === 10) text[at++] = 0x2d; // '-'
    text[at++] = HEX[byte >> 4]!;
    text[at++] = HEX[byte & 0x0f]!;
  }
  used += 16;
  return text.toString('latin1', 0, 36);
}
