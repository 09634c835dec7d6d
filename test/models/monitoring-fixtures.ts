import { createGraph, Model, ModelArtifact, type ModelCallContext, ModelRunnerStep } from '../../src/index.js';
import { openStore } from '../../src/monitoring/store/open-store.js';
import type { MonitorStore } from '../../src/monitoring/store/store.js';
import { ref, serve, sleep } from './helpers.js';

export const CALL_FIELDS = [
  'endpointUid',
  'eventId',
  'startedAt',
  'latencyMs',
  'queueMs',
  'outcome',
  'errorCode',
  'errorMessage',
  'streamed',
  'ttfcMs',
  'chunks',
  'batchSize',
  'promptTokens',
  'completionTokens',
  'totalTokens',
  'usageEstimated',
  'usage',
  'inputs',
  'outputs',
].sort();

export const ENDPOINT_FIELDS = [
  'uid',
  'graph',
  'name',
  'step',
  'kind',
  'sharedModel',
  'modelClass',
  'executionMechanism',
  'labels',
  'inputs',
  'outputs',
  'artifact',
  'creationStrategy',
  'tag',
  'definitionHash',
  'state',
  'error',
  'instances',
  'createdAt',
  'updatedAt',
  'firstRequestAt',
  'lastRequestAt',
].sort();

export const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** `{ fail }` throws; `{ usage }` reports each item of it in turn; `{ ms }` waits; `{ long }` throws a long message. */

export class Scripted extends Model<Record<string, unknown>, unknown> {
  override async predictAsync(input: Record<string, unknown>, ctx: ModelCallContext) {
    for (const u of (input.usage as object[] | undefined) ?? []) ctx.recordUsage(u as never);
    if (input.ms) await sleep(input.ms as number);
    if (input.fail) throw new TypeError(String(input.fail));
    if (input.long) throw new Error('x'.repeat(2000));
    if (input.obey) {
      await new Promise((_r, reject) =>
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }),
      );
    }
    return { echo: input.v };
  }
}

export function monitored(options: { tracking?: false | { recordIo?: boolean }; name?: string } = {}) {
  const g = createGraph({ name: options.name ?? 'shop' });
  const r = new ModelRunnerStep({ name: 'runner', raiseException: false });
  r.addModel({
    endpointName: 'scripted',
    modelClass: Scripted,
    executionMechanism: 'asyncio',
    inputPath: 'in',
    labels: ['eu', 'tier=gold'],
    modelArtifact: new ModelArtifact({ key: 'scripted-v1' }),
  });
  r.addModel({ endpointName: 'naive', modelClass: Scripted, executionMechanism: 'naive', inputPath: 'in' });
  r.addModel({ endpointName: 'pooled', modelClass: ref('AddN'), executionMechanism: 'thread_pool', inputPath: 'n' });
  g.to(r).respond();
  return serve(g, options.tracking === undefined ? {} : { tracking: options.tracking });
}

/** Open a store file read-only (as `servegraph endpoints` does), run `read`, close it. */
export async function readStore<T>(url: string, read: (store: MonitorStore) => Promise<T>): Promise<T> {
  const store = openStore(url);
  await store.open({ readOnly: true });
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}
