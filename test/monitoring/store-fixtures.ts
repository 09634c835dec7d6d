import type { CallRow, InstanceInfo, MonitorStore, StoredDefinition } from '../../src/monitoring/store/store.js';

/** The data of the store tests, the same for the SQLite and the PostgreSQL store. */

/** A fixed clock: 2026-11-24T21:00:00.000Z */
export const T0 = Date.UTC(2026, 10, 24, 21, 0, 0);

export const INSTANCE: InstanceInfo = { id: 'inst-a', host: 'host-a', pid: 101, startedAt: T0 - 1000 };
export const OTHER: InstanceInfo = { id: 'inst-b', host: 'host-b', pid: 202, startedAt: T0 - 2000 };

/** The definition of endpoint `name` with hash `hash`; `over` changes fields. */
export function def(name: string, hash: string, over: Partial<StoredDefinition> = {}): StoredDefinition {
  return {
    name,
    step: 'runner',
    kind: 'model',
    sharedModel: null,
    modelClass: 'LLModel',
    executionMechanism: 'asyncio',
    labels: { team: 'risk' },
    inputs: null,
    outputs: ['answer', 'usage'],
    artifact: { kind: 'llm-prompt', key: `${name}-prompt`, modelUrl: 'openai://gpt-4o-mini', path: null },
    creationStrategy: 'inplace',
    definitionHash: hash,
    ...over,
  };
}

/** An ok, unstreamed call of `uid` at `startedAt`; `over` changes fields. */
export function row(uid: string, startedAt: number, over: Partial<CallRow> = {}): CallRow {
  return {
    endpointUid: uid,
    eventId: `ev-${startedAt}`,
    startedAt,
    latencyMs: 10,
    queueMs: null,
    outcome: 'ok',
    errorCode: null,
    errorMessage: null,
    streamed: false,
    ttfcMs: null,
    chunks: null,
    batchSize: 1,
    promptTokens: null,
    completionTokens: null,
    totalTokens: null,
    usageEstimated: false,
    usage: null,
    inputs: null,
    outputs: null,
    ...over,
  };
}

/** Register endpoint definition `d` of graph `o.graph` (default `support`) and return its uid. */
export async function register(
  s: MonitorStore,
  d: StoredDefinition,
  o: { graph?: string; now?: number; instance?: InstanceInfo; state?: 'loading' | 'serving' } = {},
): Promise<string> {
  const uids = await s.applyEndpoints({
    graph: o.graph ?? 'support',
    defs: [d],
    instance: o.instance ?? INSTANCE,
    state: o.state ?? 'serving',
    now: o.now ?? T0,
  });
  return uids.get(d.name) as string;
}
