import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import {
  createGraph,
  createMockServer,
  type Event,
  type Graph,
  MapStep,
  type MockServer,
  type MockServerOptions,
  ModelRunnerStep,
  type ModelRunnerStepOptions,
} from '../../src/index.js';

export { deferred, rejectsSg, sleep, throwsSg, waitFor } from '../support/core.js';

/** Helpers of the ModelRunnerStep tests: fixture models in test/fixtures/models/runner-models.mjs. */

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'models');
export const FIXTURE_FILE = join(FIXTURES, 'runner-models.mjs');
/** `<absolute path of runner-models.mjs>#<exp>`: loadable by every mechanism. */
export const ref = (exp: string): string => `${FIXTURE_FILE}#${exp}`;

const servers = new Set<MockServer>();
const dirs: string[] = [];

/** A mock server that logs nothing and is closed after the test. */
export function serve(graph: Graph, options: MockServerOptions = {}): MockServer {
  const s = createMockServer(graph, { logLevel: 'silent', ...options });
  servers.add(s);
  return s;
}

/** A temporary folder, removed after the test. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sg-models-'));
  dirs.push(d);
  return d;
}

/** Lines of a log file written by fixture models (empty when the file does not exist). */
export function lines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  } catch {
    return [];
  }
}

afterEach(async () => {
  await Promise.all([...servers].map((s) => s.close({ graceMs: 0 }).catch(() => {})));
  servers.clear();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A graph with one runner that responds: `add` fills it. */
export function runnerGraph(
  add: (r: ModelRunnerStep) => void,
  options: ModelRunnerStepOptions = {},
  graphOptions: { baseDir?: string; name?: string } = {},
): { graph: Graph; runner: ModelRunnerStep } {
  const graph = createGraph(graphOptions);
  const runner = new ModelRunnerStep({ name: 'runner', ...options });
  add(runner);
  graph.to(runner).respond();
  return { graph, runner };
}

/** A MapStep that sets `meta.trace` before the runner (the HTTP trigger does it from request headers). */
export function traceStep(traceparent: string): MapStep<Event, Event> {
  return new MapStep({
    name: 'trace',
    fullEvent: true,
    handler: (ev: Event) => {
      ev.meta.trace = { traceparent, tracestate: 'k=v' };
      return ev;
    },
  });
}

/** Whether a process with this pid is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
