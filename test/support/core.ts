import { afterEach, expect } from 'vitest';
import { createMockServer, type Graph, type MockServer, type MockServerOptions, SgError } from '../../src/index.js';

/** Shared helpers of the graph, engine, steps and mock-server tests. */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A mock server that does not log expected failures. */
export function quietServer(graph: Graph, options: MockServerOptions = {}): MockServer {
  return createMockServer(graph, { logLevel: 'silent', ...options });
}

/**
 * Quiet mock servers that are closed after each test: `const serve = useServers();` at the top of a file,
 * then `serve(graph)` in a test.
 */
export function useServers(): (graph: Graph, options?: MockServerOptions) => MockServer {
  const servers: MockServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return (graph, options) => {
    const s = quietServer(graph, options);
    servers.push(s);
    return s;
  };
}

/** Assert that `fn` throws (synchronously) an SgError with `code`; returns it. */
export function throwsSg(fn: () => unknown, code: string): SgError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${code} to be thrown`).toBeInstanceOf(SgError);
  expect((caught as SgError).code).toBe(code);
  return caught as SgError;
}

/** Assert that `p` rejects with an SgError with `code`; returns it. */
export async function rejectsSg(p: Promise<unknown> | (() => Promise<unknown>), code: string): Promise<SgError> {
  let caught: unknown;
  let resolved = false;
  let value: unknown;
  try {
    value = await (typeof p === 'function' ? p() : p);
    resolved = true;
  } catch (err) {
    caught = err;
  }
  expect(resolved, `expected a rejection with ${code}, got ${JSON.stringify(value)}`).toBe(false);
  expect(caught, `expected ${code}`).toBeInstanceOf(SgError);
  expect((caught as SgError).code).toBe(code);
  return caught as SgError;
}

/** A promise with its resolve function exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Wait until `cond()` holds (polling), failing after `seconds`. */
export async function waitFor(cond: () => boolean, seconds = 5): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (!cond()) {
    if (Date.now() > until) throw new Error('waitFor: condition not met in time');
    await sleep(2);
  }
}

/**
 * Send `n` events at once; those for which `fails(i)` holds must reject with `code`, the others must
 * resolve with `expected(i)`. Checks that one failing event does not disturb the others in flight.
 */
export async function mixedLoad(
  server: MockServer,
  n: number,
  body: (i: number) => unknown,
  fails: (i: number) => boolean,
  code: string,
  expected: (i: number) => unknown,
): Promise<void> {
  const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => server.test('/', body(i))));
  results.forEach((r, i) => {
    if (fails(i)) {
      expect(r.status, `event ${i} should fail`).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason;
      expect(err).toBeInstanceOf(SgError);
      expect((err as SgError).code).toBe(code);
    } else {
      expect(r.status, `event ${i} should succeed: ${String((r as PromiseRejectedResult).reason)}`).toBe('fulfilled');
      expect((r as PromiseFulfilledResult<unknown>).value).toEqual(expected(i));
    }
  });
}
