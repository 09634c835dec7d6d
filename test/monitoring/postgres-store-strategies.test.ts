import { describePg, usePgSchema } from './postgres-fixtures.js';
import { endpointContract } from './store-contract.js';

const db = usePgSchema('sgtest_strategies');

endpointContract(describePg, 'PostgresStore', {
  opened: () => db.opened(),
  count: (table, uid) =>
    uid === undefined
      ? db.num(`SELECT count(*) FROM ${table}`)
      : db.num(`SELECT count(*) FROM ${table} WHERE endpoint_uid = $1`, [uid]),
  instances: async () =>
    (
      await db.sql<{
        instance_id: string;
        host: string;
        pid: number;
        state: string;
        started_at: string;
        heartbeat_at: string;
      }>(
        'SELECT instance_id, host, pid, state, started_at, heartbeat_at FROM sg_endpoint_instances ORDER BY instance_id',
      )
    ).map((r) => ({ ...r, started_at: Number(r.started_at), heartbeat_at: Number(r.heartbeat_at) })),
  deleteInstances: async () => {
    await db.sql('DELETE FROM sg_endpoint_instances');
  },
});
