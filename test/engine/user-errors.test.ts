import { describe, expect, test } from 'vitest';
import { Choice, createGraph, Filter, FlatMap, MapStep, SgError, Step } from '../../src/index.js';
import { quietServer, rejectsSg, sleep, useServers, waitFor } from '../support/core.js';

const serve = useServers();

describe('an SgError thrown by user code keeps its code, status and details (graph.md section 14)', () => {
  test('from a handler, a rejected promise and a user step do(), with step filled when missing', async () => {
    class Strict extends Step {
      override async do(b: unknown) {
        if (b === 'bad') throw new SgError('SG_ERR_BAD_REQUEST', "expected 'q'", { details: { field: 'q' } });
        return b;
      }
    }
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'quota',
        handler: (b: string) => {
          if (b === 'quota') throw new SgError('SG_ERR_QUOTA_EXCEEDED', 'tenant used its calls');
          if (b === 'placed') throw new SgError('SG_ERR_PLACED', 'already placed', { step: 'elsewhere' });
          if (b === 'reject') return Promise.reject(new SgError('SG_ERR_PATH_TARGET', 'user path target'));
          return b;
        },
      }),
    )
      .to(new Strict({ name: 'strict' }))
      .respond();
    const server = serve(g);
    const quota = await rejectsSg(server.test('/', 'quota'), 'SG_ERR_QUOTA_EXCEEDED');
    expect(quota.status).toBe(500);
    expect(quota.step).toBe('quota');
    expect(quota.message).toBe('tenant used its calls');
    const placed = await rejectsSg(server.test('/', 'placed'), 'SG_ERR_PLACED');
    expect(placed.step).toBe('elsewhere');
    const rejected = await rejectsSg(server.test('/', 'reject'), 'SG_ERR_PATH_TARGET');
    expect(rejected.status).toBe(400);
    const bad = await rejectsSg(server.test('/', 'bad'), 'SG_ERR_BAD_REQUEST');
    expect(bad.status).toBe(400);
    expect(bad.step).toBe('strict');
    expect(bad.details).toEqual({ field: 'q' });
    expect(await server.test('/', 'fine')).toBe('fine');
  });

  test('from Filter, FlatMap and Choice handlers alike', async () => {
    const own = () => new SgError('SG_ERR_OWN', 'own', { details: { k: 1 } });
    const steps = [
      new Filter({
        name: 'f',
        handler: () => {
          throw own();
        },
      }),
      new FlatMap({
        name: 'f',
        handler: async function* () {
          yield* [];
          throw own();
        },
      }),
      new Choice({ name: 'f', handler: () => Promise.reject(own()) }),
    ];
    for (const step of steps) {
      const g = createGraph();
      g.to(step)
        .to(new MapStep({ name: 'r', handler: (b) => b }))
        .respond();
      const err = await rejectsSg(serve(g).test('/', 1), 'SG_ERR_OWN');
      expect(err.step).toBe('f');
      expect(err.details).toEqual({ k: 1 });
      expect(err.status).toBe(500);
    }
  });

  test('a thrown non-Error value becomes SG_ERR_STEP_FAILED with it as cause', async () => {
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'a',
        handler: () => {
          throw 'a string';
        },
      }),
    ).respond();
    const err = await rejectsSg(serve(g).test('/', 1), 'SG_ERR_STEP_FAILED');
    expect(err.cause).toBe('a string');
    expect(err.message).toContain('a string');
  });

  test('close() waits for handlers still running', async () => {
    let done = false;
    const g = createGraph();
    g.to(
      new MapStep({
        name: 'a',
        handler: () => {
          throw new Error('x');
        },
      }),
    ).errorHandler(
      new MapStep({
        name: 'h',
        handler: async () => {
          await sleep(20);
          done = true;
        },
      }),
    );
    const server = quietServer(g);
    await server.test('/', 1);
    await server.close();
    expect(done).toBe(true);
    await waitFor(() => done);
  });
});
