import { expect, test } from 'vitest';
import { Batch, createGraph, createMockServer, MapStep } from '../../src/index.js';

test('smoke', async () => {
  const g = createGraph();
  g.to(new MapStep({ name: 'x2', handler: (x: number) => x * 2, inputPath: 'x', resultPath: 'y.z' })).respond();
  const s = createMockServer(g);
  expect(await s.test('/', { x: 5 })).toEqual({ x: 5, y: { z: 10 } });
  await s.close();
  const g3 = createGraph();
  g3.to(new Batch({ name: 'batch', maxEvents: 3, flushAfterSeconds: 0.05 }))
    .to(new MapStep({ name: 'double', handler: (xs: number[]) => xs.map((x) => x * 2) }))
    .respond();
  const s3 = createMockServer(g3);
  expect(await Promise.all([1, 2, 3, 4].map((x) => s3.test('/', x)))).toEqual([2, 4, 6, 8]);
  await s3.close();
});
