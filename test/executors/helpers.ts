import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { expect } from 'vitest';
import { SgError } from '../../src/errors/index.js';
import type { PoolCall, PoolModelSpec, PoolOptions } from '../../src/executors/index.js';
import { WorkerPool } from '../../src/executors/index.js';

/** Helpers of the worker pool tests: real threads and processes, fixture models in test/fixtures/models. */

export type Kind = 'thread' | 'process';
export const KINDS: Kind[] = ['thread', 'process'];

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'models');
export const ref = (file: string, exp: string): string => `${pathToFileURL(join(fixtures, file)).href}#${exp}`;

export const silent = pino({ level: 'silent' });

export function spec(
  name: string,
  file: string,
  exp: string,
  more: {
    maxConcurrentCalls?: number;
    modelParameters?: Record<string, unknown>;
    modelArtifact?: Record<string, unknown>;
  } = {},
): PoolModelSpec {
  const options: PoolModelSpec['options'] = { name };
  if (more.modelParameters) options.modelParameters = more.modelParameters;
  if (more.modelArtifact) options.modelArtifact = more.modelArtifact;
  return { name, classRef: ref(file, exp), options, maxConcurrentCalls: more.maxConcurrentCalls ?? 1 };
}

const open = new Set<WorkerPool>();

export function makePool(kind: Kind, models: PoolModelSpec[], more: Partial<PoolOptions> = {}): WorkerPool {
  const pool = new WorkerPool({
    name: kind === 'thread' ? 'runner/thread_pool' : 'runner/process_pool',
    kind,
    mechanism: kind === 'thread' ? 'thread_pool' : 'process_pool',
    size: 1,
    models,
    maxQueue: 1024,
    logger: silent,
    ...more,
  });
  open.add(pool);
  return pool;
}

/** Close every pool a test made (afterEach). */
export async function closeAll(): Promise<void> {
  await Promise.all([...open].map((p) => p.close(0)));
  open.clear();
}

let eventNo = 0;
export function call(pool: WorkerPool, model: string, input: unknown, more: Partial<PoolCall> = {}): Promise<unknown> {
  return pool.call({
    model,
    input,
    ctx: { endpointName: model, step: 'runner', eventId: `ev-${++eventNo}`, path: '/' },
    ...more,
  });
}

/** The rejection of `p`, asserted to be an SgError with `code`. */
export async function rejection(p: Promise<unknown>, code: string): Promise<SgError> {
  let caught: unknown;
  let value: unknown;
  let settled = false;
  try {
    value = await p;
    settled = true;
  } catch (err) {
    caught = err;
  }
  expect(settled, `expected ${code}, got the value ${JSON.stringify(value)}`).toBe(false);
  expect(caught, `expected ${code}, got ${String(caught)}`).toBeInstanceOf(SgError);
  expect((caught as SgError).code, (caught as Error).message).toBe(code);
  return caught as SgError;
}

export function tempDir(): {
  dir: string;
  file: (n: string) => string;
  lines: (n: string) => string[];
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'sg-pool-'));
  return {
    dir,
    file: (n) => join(dir, n),
    lines: (n) => {
      try {
        return readFileSync(join(dir, n), 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wait until `cond()` holds (polling), up to `ms`. */
export async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}
