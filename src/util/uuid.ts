import { randomFillSync } from 'node:crypto';

/** ids made per refill: one call for random bytes and one string for all of them */
const IDS = 1024;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const bytes = Buffer.alloc(16 * IDS);
const text = Buffer.alloc(36 * IDS);
let ids = '';
let next = IDS;

function refill(): void {
  fill();
  ids = text.toString('latin1');
  next = 0;
}

/**
 * The text of IDS new ids. Apart from refill so that the loop, which V8 compiles on the stack while it runs,
 * ends its function: compiled with what follows, it was thrown away at every refill for want of type feedback
 * on the string conversion (--trace-deopt, once per 1024 requests).
 */
function fill(): void {
  randomFillSync(bytes);
  let at = 0;
  for (let k = 0; k < IDS; k++) {
    for (let i = 0; i < 16; i++) {
      let byte = bytes[k * 16 + i]!;
      if (i === 6)
        byte = (byte & 0x0f) | 0x40; // version 4
      else if (i === 8) byte = (byte & 0x3f) | 0x80; // RFC 4122 variant
      if (i === 4 || i === 6 || i === 8 || i === 10) text[at++] = 0x2d; // '-'
      text[at++] = HEX[byte >> 4]!;
      text[at++] = HEX[byte & 0x0f]!;
    }
  }
}

/**
 * A random (version 4) UUID, as `crypto.randomUUID()` makes, at a third of its cost: made 1024 at a time
 * into one string, of which each id is a slice. randomUUID's own ids are concatenated from pieces, which
 * every regular expression run on them (Node checks each response header value with one) must first copy
 * into one. Used per request (X-Request-Id) and per stream.
 */
export function newUuid(): string {
  if (next === IDS) refill();
  const at = 36 * next++;
  return ids.slice(at, at + 36);
}
