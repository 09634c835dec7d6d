import { expect, test } from 'vitest';
import { createGraph, createMockServer, MapStep, Step } from '../../src/index.js';

test('close() while a step init() hangs resolves after the grace period and stops the steps already started', async () => {
  const log: string[] = [];
  class Quick extends Step {
    async init() {
      log.push('quick init');
    }
    async close() {
      log.push('quick close');
    }
    override do(x: unknown) {
      return x;
    }
  }
  class Stuck extends Step {
    init() {
      return new Promise<void>(() => {}); // never settles
    }
    override do(x: unknown) {
      return x;
    }
  }
  const g = createGraph();
  g.to(new Quick({ name: 'quick' }))
    .to(new Stuck({ name: 'stuck' }))
    .respond();
  const s = createMockServer(g, { logLevel: 'silent' });
  await new Promise((r) => setTimeout(r, 50));
  await s.close({ graceMs: 100 });
  expect(log).toEqual(['quick init', 'quick close']);
  await expect(s.test('/', 1)).rejects.toMatchObject({ code: 'SG_ERR_SERVER_CLOSED' });
  // the graph is free again
  const s2 = createMockServer(
    createGraph()
      .to(new MapStep({ name: 'a', handler: (x: number) => x + 1 }))
      .respond()._graph!,
  );
  expect(await s2.test('/', 1)).toBe(2);
  await s2.close();
});
