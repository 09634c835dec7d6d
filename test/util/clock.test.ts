import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { wallClockAt } from '../../src/util/clock.js';

describe('wallClockAt', () => {
  it('gives the wall clock in whole milliseconds, as Date.now() does, at a performance.now() time', async () => {
    for (let i = 0; i < 3; i++) {
      const before = Date.now();
      const at = wallClockAt(performance.now());
      const after = Date.now();
      expect(Number.isInteger(at)).toBe(true);
      expect(at).toBeGreaterThanOrEqual(before - 2);
      expect(at).toBeLessThanOrEqual(after + 2);
      // across a resync (every second)
      await new Promise((r) => setTimeout(r, 600));
    }
  });
});
