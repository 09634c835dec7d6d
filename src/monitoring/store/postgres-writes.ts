import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { CALL_COLUMN_COUNT, CALLS_PER_INSERT, insertCallsSql, SQL } from './postgres-queries.js';
import { callParams, definitionParams } from './postgres-rows.js';
import { addCounts } from './row-mapping.js';
import type { CallRow, InstanceInfo, RollupDelta, StoredDefinition } from './store.js';

/**
 * The bodies of the PostgreSQL store's two write transactions (monitoring.md sections 2 and 5), run by
 * `PostgresStore` on one connection between its BEGIN and COMMIT.
 */

/** This instance's rows for `uids`, inserted or updated (only for records that exist). */
export async function upsertInstances(
  c: pg.ClientBase | pg.Pool,
  a: { uids: readonly string[]; instance: InstanceInfo; state: string; error: string | null; now: number },
): Promise<void> {
  const { instance } = a;
  await c.query(SQL.upsertInstances, [
    a.uids,
    instance.id,
    instance.host,
    instance.pid,
    a.state,
    a.error,
    instance.startedAt,
    a.now,
  ]);
}

/**
 * Section 2 for one graph: under a per-graph advisory lock (servers starting one graph together apply it one after
 * the other), touch the latest record of each definition when its hash is the same, else apply its creation
 * strategy; then upsert this instance's rows. Returns name → uid of the latest records.
 */
export async function applyDefinitions(
  c: pg.ClientBase,
  a: {
    graph: string;
    defs: readonly StoredDefinition[];
    instance: InstanceInfo;
    state: 'loading' | 'serving';
    now: number;
  },
): Promise<Map<string, string>> {
  const { graph, now } = a;
  await c.query(SQL.applyLock, [graph]);
  const uids = new Map<string, string>();
  for (const d of a.defs) {
    const latest = (await c.query<{ uid: string; definition_hash: string }>(SQL.latestEndpoint, [graph, d.name]))
      .rows[0];
    let uid: string;
    if (latest !== undefined && latest.definition_hash === d.definitionHash) {
      uid = latest.uid; // touched: a restart, or a second server with the same graph
    } else if (latest !== undefined && d.creationStrategy !== 'overwrite' && d.creationStrategy !== 'archive') {
      uid = latest.uid; // inplace
      await c.query(SQL.updateEndpoint, [uid, graph, d.name, ...definitionParams(d), now]);
    } else {
      if (latest !== undefined && d.creationStrategy === 'overwrite') {
        await c.query(SQL.deleteEndpoint, [latest.uid]); // its calls, rollups and instance rows cascade
      } else if (latest !== undefined) {
        await c.query(SQL.archiveEndpoint, [latest.uid, now]);
      }
      uid = randomBytes(16).toString('hex');
      await c.query(SQL.insertEndpoint, [uid, graph, d.name, ...definitionParams(d), now]);
    }
    uids.set(d.name, uid);
  }
  await upsertInstances(c, { uids: [...uids.values()], instance: a.instance, state: a.state, error: null, now });
  return uids;
}

/**
 * One write of section 5: the call rows (multi-row INSERTs of at most `CALLS_PER_INSERT` rows), the endpoints'
 * first/last request times (LEAST / GREATEST), this instance's rollups (counts added element-wise in SQL) and its
 * heartbeat. Rows and rollups of endpoint records deleted meanwhile (an overwrite by another server) are left out;
 * the others are locked (FOR KEY SHARE) until the transaction ends.
 */
export async function writeBatch(
  c: pg.ClientBase,
  a: { rows: readonly CallRow[]; rollups: readonly RollupDelta[]; instance: InstanceInfo; now: number },
): Promise<void> {
  const uids = [...new Set([...a.rows.map((r) => r.endpointUid), ...a.rollups.map((r) => r.endpointUid)])];
  if (uids.length > 0) {
    const present = new Set((await c.query<{ uid: string }>(SQL.lockEndpoints, [uids])).rows.map((r) => r.uid));
    const rows = a.rows.filter((r) => present.has(r.endpointUid));
    for (let i = 0; i < rows.length; i += CALLS_PER_INSERT) {
      const chunk = rows.slice(i, i + CALLS_PER_INSERT);
      const params: unknown[] = new Array(chunk.length * CALL_COLUMN_COUNT);
      chunk.forEach((r, k) => {
        const values = callParams(r);
        for (let j = 0; j < CALL_COLUMN_COUNT; j++) params[k * CALL_COLUMN_COUNT + j] = values[j];
      });
      await c.query(insertCallsSql(chunk.length), params);
    }
    const times = new Map<string, { uid: string; first: number; last: number }>();
    for (const r of rows) {
      const t = times.get(r.endpointUid);
      if (t === undefined) times.set(r.endpointUid, { uid: r.endpointUid, first: r.startedAt, last: r.startedAt });
      else {
        t.first = Math.min(t.first, r.startedAt);
        t.last = Math.max(t.last, r.startedAt);
      }
    }
    if (times.size > 0) await c.query(SQL.requestTimes, [JSON.stringify([...times.values()])]);
    // one row per (endpoint, bucket) in a statement: ON CONFLICT cannot update a row twice
    const rollups = new Map<string, { uid: string; bucket: number; latency: number[]; ttfc: number[] }>();
    for (const r of a.rollups) {
      if (!present.has(r.endpointUid)) continue;
      const key = `${r.endpointUid}:${r.bucketStart}`;
      const prev = rollups.get(key);
      if (prev === undefined) {
        rollups.set(key, { uid: r.endpointUid, bucket: r.bucketStart, latency: [...r.latency], ttfc: [...r.ttfc] });
      } else {
        prev.latency = addCounts(prev.latency, r.latency);
        prev.ttfc = addCounts(prev.ttfc, r.ttfc);
      }
    }
    if (rollups.size > 0) await c.query(SQL.addRollups, [JSON.stringify([...rollups.values()]), a.instance.id]);
  }
  await c.query(SQL.heartbeat, [a.instance.id, a.now]);
}
