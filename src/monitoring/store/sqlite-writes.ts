import { randomBytes } from 'node:crypto';
import { addCounts, CALL_AT } from './row-mapping.js';
import type { SqliteConnection } from './sqlite-db.js';
import type { SqliteOps } from './sqlite-protocol.js';
import { bindTuple, definitionParams } from './sqlite-rows.js';
import type { InstanceInfo } from './store.js';

type Args<K extends keyof SqliteOps> = SqliteOps[K]['args'];

/** A new record uid: 32 random lowercase hex characters (monitoring.md section 1). */
export const newUid = (): string => randomBytes(16).toString('hex');

function upsertInstance(
  c: SqliteConnection,
  uid: string,
  instance: InstanceInfo,
  state: string,
  error: string | null,
  now: number,
): void {
  c.stmt('upsertInstance').run({
    uid,
    id: instance.id,
    host: instance.host,
    pid: instance.pid,
    state,
    error: state === 'error' ? error : null,
    startedAt: instance.startedAt,
    now,
  });
}

/**
 * Section 2 for one graph, in one transaction: the latest record of (graph, name) with the same definition hash is
 * only touched (its instance row); otherwise `inplace` updates it (same uid, definition fields, updated_at),
 * `overwrite` deletes it (its calls, rollups and instance rows go by ON DELETE CASCADE) and creates a new latest
 * record, `archive` clears its tag and creates a new latest record. Resolves with name → uid of the latest records.
 */
export function applyEndpoints(c: SqliteConnection, a: Args<'applyEndpoints'>): Map<string, string> {
  return c.write(() => {
    const out = new Map<string, string>();
    for (const d of a.defs) {
      const latest = c.stmt('latestEndpoint').get(a.graph, d.name) as
        | { uid: string; definition_hash: string }
        | undefined;
      let uid: string;
      if (latest !== undefined && latest.definition_hash === d.definitionHash) uid = latest.uid;
      else if (latest !== undefined && d.creationStrategy !== 'overwrite' && d.creationStrategy !== 'archive') {
        uid = latest.uid;
        c.stmt('updateEndpoint').run({ ...definitionParams(d), uid, now: a.now });
      } else {
        if (latest !== undefined && d.creationStrategy === 'overwrite') c.stmt('deleteEndpoint').run(latest.uid);
        if (latest !== undefined && d.creationStrategy === 'archive') c.stmt('archiveEndpoint').run(a.now, latest.uid);
        uid = newUid();
        c.stmt('insertEndpoint').run({ ...definitionParams(d), uid, graph: a.graph, name: d.name, now: a.now });
      }
      upsertInstance(c, uid, a.instance, a.state, null, a.now);
      out.set(d.name, uid);
    }
    return out;
  });
}

/** This instance's rows for these endpoint uids (those whose record still exists): state, error, heartbeat. */
export function setInstanceState(c: SqliteConnection, a: Args<'setInstanceState'>): void {
  c.write(() => {
    for (const uid of a.uids) upsertInstance(c, uid, a.instance, a.state, a.error, a.now);
  });
}

/** Heartbeat every row of this instance. */
export function heartbeat(c: SqliteConnection, a: Args<'heartbeat'>): void {
  c.write(() => c.stmt('heartbeat').run(a.now, a.instance.id));
}

/**
 * One flush (section 5), one transaction: insert the call rows, raise first/last_request_at of their endpoints,
 * add the rollup counts to this instance's rows, heartbeat this instance. Rows and rollups of an endpoint record
 * that no longer exists (overwritten meanwhile by another server) are skipped rather than failing the batch.
 */
export function writeCalls(c: SqliteConnection, a: Args<'writeCalls'>): void {
  c.write(() => {
    const exists = new Map<string, boolean>();
    const known = (uid: string): boolean => {
      let e = exists.get(uid);
      if (e === undefined) {
        e = c.stmt('endpointExists').get(uid) !== undefined;
        exists.set(uid, e);
      }
      return e;
    };
    const times = new Map<string, { first: number; last: number }>();
    const insert = c.stmt('insertCall');
    for (const row of a.rows) {
      const uid = row[CALL_AT.endpoint_uid] as string;
      const startedAt = row[CALL_AT.started_at] as number;
      if (!known(uid)) continue;
      insert.run(bindTuple(row));
      const t = times.get(uid);
      if (t === undefined) times.set(uid, { first: startedAt, last: startedAt });
      else {
        t.first = Math.min(t.first, startedAt);
        t.last = Math.max(t.last, startedAt);
      }
    }
    for (const [uid, t] of times) c.stmt('requestTimes').run({ uid, first: t.first, last: t.last });
    for (const d of a.rollups) {
      if (!known(d.endpointUid)) continue;
      const prev = c.stmt('getRollup').get(d.endpointUid, a.instance.id, d.bucketStart) as
        | { latency_counts: string; ttfc_counts: string }
        | undefined;
      const latency = prev === undefined ? d.latency : addCounts(JSON.parse(prev.latency_counts), d.latency);
      const ttfc = prev === undefined ? d.ttfc : addCounts(JSON.parse(prev.ttfc_counts), d.ttfc);
      c.stmt('putRollup').run(
        d.endpointUid,
        a.instance.id,
        d.bucketStart,
        JSON.stringify(latency),
        JSON.stringify(ttfc),
      );
    }
    c.stmt('heartbeat').run(a.now, a.instance.id);
  });
}

/** Retention (section 6): call rows and rollups older than `before`, at most `limit` of each; the number deleted. */
export function deleteBefore(c: SqliteConnection, a: Args<'deleteBefore'>): number {
  return c.write(() => {
    const calls = c.stmt('deleteOldCalls').run(a.before, a.limit).changes;
    const rollups = c.stmt('deleteOldRollups').run(a.before, a.limit).changes;
    return calls + rollups;
  });
}

/** Instance rows whose heartbeat is older than `before`. */
export function deleteStaleInstances(c: SqliteConnection, a: Args<'deleteStaleInstances'>): void {
  c.write(() => c.stmt('deleteStaleInstances').run(a.before));
}
