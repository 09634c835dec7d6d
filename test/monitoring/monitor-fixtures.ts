import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import {
  createGraph,
  type HttpServer,
  Model,
  ModelArtifact,
  ModelRunnerStep,
  type ServeOptions,
  serve,
} from '../../src/index.js';
import { postJson } from '../integration/http-helpers.js';

/** Helpers of the monitor tests: real servers (serve(), port 0) on SQLite files in temporary folders. */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `{ ms }` waits that long; `{ fail }` throws. */
export class Sleepy extends Model<Record<string, unknown>, unknown> {
  override async predictAsync(body: Record<string, unknown> | undefined) {
    const input = body ?? {};
    if (typeof input.ms === 'number') await sleep(input.ms);
    if (input.fail) throw new TypeError(String(input.fail));
    return { ok: true, echo: input.v ?? null };
  }
}

export type GraphOptions = {
  name?: string;
  endpoint?: string;
  strategy?: 'inplace' | 'overwrite' | 'archive';
  config?: Record<string, unknown>;
  mechanism?: 'naive' | 'asyncio';
};

/** Graph `shop` with one runner `runner` holding one model (default endpoint `m`, naive, artifact `k`). */
export function graphOf(o: GraphOptions = {}) {
  const g = createGraph({ name: o.name ?? 'shop' });
  const r = new ModelRunnerStep({ name: 'runner', raiseException: false });
  r.addModel({
    endpointName: o.endpoint ?? 'm',
    modelClass: Sleepy,
    executionMechanism: o.mechanism ?? 'naive',
    modelArtifact: new ModelArtifact({ key: 'k', defaultConfig: o.config ?? { v: 1 } }),
    ...(o.strategy ? { modelEndpointCreationStrategy: o.strategy } : {}),
  });
  g.to(r).respond();
  return g;
}

const open = new Set<HttpServer>();
const dirs: string[] = [];

/** serve() on port 0, quiet, closed after the test. */
export async function start(o: GraphOptions = {}, options: ServeOptions = {}): Promise<HttpServer> {
  const app = await serve(graphOf(o), { port: 0, logger: false, ...options });
  open.add(app);
  return app;
}

/** Close a server started by `start` now. */
export async function stop(app: HttpServer): Promise<void> {
  open.delete(app);
  await app.close({ graceMs: 0 });
}

/** A temporary folder, removed after the test. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sg-monitor-'));
  dirs.push(d);
  return d;
}

/** `sqlite:<tmp>/sg.db` and the file path. */
export function tempStore(): { url: string; file: string } {
  const file = join(tempDir(), 'sg.db');
  return { url: `sqlite:${file}`, file };
}

/** POST `n` bodies at once (body(i)); resolves with the statuses. */
export async function calls(app: HttpServer, n: number, body: (i: number) => unknown = () => ({})): Promise<number[]> {
  const rs = await Promise.all(Array.from({ length: n }, (_, i) => postJson(app.url, body(i))));
  return rs.map((r) => r.status);
}

afterEach(async () => {
  await Promise.all([...open].map((a) => a.close({ graceMs: 0 }).catch(() => {})));
  open.clear();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
