import { describe, expect, it } from 'vitest';
import { newUuid } from '../../src/util/uuid.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newUuid', () => {
  it('makes version 4 UUIDs, all different, across several refills of its pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const id = newUuid();
      expect(id).toMatch(UUID_V4);
      seen.add(id);
    }
    expect(seen.size).toBe(5000);
  });

  it('gives ids that pass the header value check Node runs on every response header', () => {
    // the same check as Node's checkInvalidHeaderChar: an id is sent as X-Request-Id
    expect(/[^\t\x20-\x7e\x80-\xff]/.test(newUuid())).toBe(false);
  });
});
