import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeEach, describe } from 'vitest';
import { opened, tmpDir } from './sqlite-fixtures.js';
import { endpointContract, type InstanceRowView } from './store-contract.js';

let file = '';
beforeEach(() => {
  file = join(tmpDir(), 'm.db');
});

/** `fn` on a connection of its own to this test's file (the store's worker keeps its own). */
function onFile<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

endpointContract(describe, 'SqliteStore', {
  opened: () => opened(`sqlite:${file}`),
  count: async (table, uid) =>
    onFile((db) =>
      uid === undefined
        ? (db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number)
        : (db.prepare(`SELECT count(*) FROM ${table} WHERE endpoint_uid = ?`).pluck().get(uid) as number),
    ),
  instances: async () =>
    onFile(
      (db) =>
        db
          .prepare(
            'SELECT instance_id, host, pid, state, started_at, heartbeat_at FROM sg_endpoint_instances ORDER BY instance_id',
          )
          .all() as InstanceRowView[],
    ),
  deleteInstances: async () => {
    onFile((db) => db.prepare('DELETE FROM sg_endpoint_instances').run());
  },
});
