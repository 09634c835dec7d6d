// Pure computation for the CPU-bound benchmark: the same function inline, in a thread and in a process.

/** xorshift rounds: `iterations` steps of integer work, no allocation, no I/O. */
export function burn(iterations) {
  let x = 2463534242;
  let acc = 0;
  for (let i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    acc = (acc + (x & 0xff)) | 0;
  }
  return acc;
}

/** How many iterations take about `ms` on this machine (after a warm-up). */
export function calibrate(ms) {
  burn(1e6);
  let n = 100_000;
  for (;;) {
    const t0 = performance.now();
    burn(n);
    const took = performance.now() - t0;
    if (took > 20) return Math.round((n * ms) / took);
    n *= 2;
  }
}
