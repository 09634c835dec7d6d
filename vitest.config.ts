import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // monitoring stores in memory unless a test says otherwise: no servegraph.db written into the work tree
    env: { SERVEGRAPH_STORE: 'sqlite::memory:' },
  },
});
