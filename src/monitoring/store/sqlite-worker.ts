import { parentPort } from 'node:worker_threads';
import { SgError } from '../../errors/index.js';
import { SqliteConnection } from './sqlite-db.js';
import type { SqliteOp, SqliteOps, SqliteRequest, SqliteResponse, WireError } from './sqlite-protocol.js';
import { aggregate, calls, getEndpoint, latencies, listEndpoints, rollups, series } from './sqlite-reads.js';
import {
  applyEndpoints,
  deleteBefore,
  deleteStaleInstances,
  heartbeat,
  setInstanceState,
  writeCalls,
} from './sqlite-writes.js';

/**
 * The SQLite worker thread (monitoring.md section 5): better-sqlite3 is synchronous, so every statement of a
 * `SqliteStore` runs here. It answers each request `{id, op, args}` of `sqlite-store.ts` with `{id, ok, value}` or
 * `{id, ok: false, error}`, one at a time in arrival order; after `close` it closes the database and ends.
 */
const port = parentPort;
if (port === null) throw new Error('sqlite-worker.ts runs as a worker thread of SqliteStore');

let conn: SqliteConnection | undefined;

function open(): SqliteConnection {
  if (conn === undefined) throw new SgError('SG_ERR_MONITOR_STORE_UNAVAILABLE', 'the SQLite store is not open');
  return conn;
}

/** Each op's handler; the ops that answer nothing (`undefined`) may return whatever their function returns. */
type Handlers = {
  [K in SqliteOp]: (
    args: SqliteOps[K]['args'],
  ) => SqliteOps[K]['result'] extends undefined ? unknown : SqliteOps[K]['result'];
};

const handlers: Handlers = {
  open: (a) => {
    conn?.close();
    conn = undefined;
    conn = SqliteConnection.open(a.path, a.readOnly);
  },
  close: () => {
    conn?.close();
    conn = undefined;
  },
  pragmas: () => open().pragmas(),
  applyEndpoints: (a) => applyEndpoints(open(), a),
  setInstanceState: (a) => setInstanceState(open(), a),
  heartbeat: (a) => heartbeat(open(), a),
  writeCalls: (a) => writeCalls(open(), a),
  deleteBefore: (a) => deleteBefore(open(), a),
  deleteStaleInstances: (a) => deleteStaleInstances(open(), a),
  listEndpoints: (a) => listEndpoints(open(), a),
  getEndpoint: (a) => getEndpoint(open(), a),
  aggregate: (a) => aggregate(open(), a),
  latencies: (a) => latencies(open(), a),
  rollups: (a) => rollups(open(), a),
  series: (a) => series(open(), a),
  calls: (a) => calls(open(), a),
};

/** An error as it crosses to the main thread: SgErrors keep their code; SQLite errors are STORE_UNAVAILABLE. */
function toWire(err: unknown): WireError {
  if (err instanceof SgError) {
    let details: Record<string, unknown> = {};
    try {
      details = structuredClone(err.details);
    } catch {
      // details that do not clone are left out
    }
    return { code: err.code, message: err.message, details };
  }
  const code = (err as { code?: unknown } | null)?.code;
  return {
    code: 'SG_ERR_MONITOR_STORE_UNAVAILABLE',
    message: `SQLite store: ${err instanceof Error ? err.message : String(err)}`,
    details: typeof code === 'string' ? { sqliteCode: code } : {},
  };
}

port.on('message', (req: SqliteRequest) => {
  let res: SqliteResponse;
  try {
    const value = (handlers[req.op] as (args: unknown) => unknown)(req.args);
    res = { id: req.id, ok: true, value };
  } catch (err) {
    res = { id: req.id, ok: false, error: toWire(err) };
  }
  try {
    port.postMessage(res);
  } catch (err) {
    port.postMessage({ id: req.id, ok: false, error: toWire(err) } satisfies SqliteResponse);
  }
  if (req.op === 'close') port.close();
});
