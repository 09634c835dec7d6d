import type { Command } from 'commander';
import { SgError } from '../../errors/index.js';
import { endpointStats } from '../../monitoring/queries.js';
import { windowMs } from '../../monitoring/stats.js';
import { openStore } from '../../monitoring/store/open-store.js';
import { type EndpointRow, endpointsTable } from '../endpoints-table.js';
import { EXIT, errorLine, exitCodeOf } from '../output.js';

type Flags = { store?: string; url?: string; graph?: string; window: string; all?: boolean; json?: boolean };

/** `servegraph endpoints`: the model endpoints of a store, or of a running server with --url (monitoring.md section 8). */
export function registerEndpoints(program: Command): void {
  program
    .command('endpoints')
    .description('list model endpoints with their figures, from a monitoring store or a running server')
    .option('--store <url>', 'store URL (default: $SERVEGRAPH_STORE, else sqlite:./servegraph.db)')
    .option('--url <url>', "a running server's address (http://host:port): read its /endpoints API instead")
    .option('--graph <name>', 'only this graph')
    .option('--window <window>', 'the window of the figures: 10s to 365d, e.g. 15m, 1h, 7d', '15m')
    .option('--all', 'archived endpoint records too')
    .option('--json', 'print the endpoints array of the API as JSON')
    .addHelpText('after', '\nWith --url and SERVEGRAPH_AUTH_TOKEN set, the token is sent as a Bearer header.')
    .action(async (flags: Flags) => {
      try {
        windowMs(flags.window);
        const { rows, source } = flags.url === undefined ? await fromStore(flags) : await fromServer(flags);
        if (flags.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else if (rows.length === 0) process.stdout.write(`no model endpoints in ${source}\n`);
        else process.stdout.write(endpointsTable(rows));
        process.exitCode = EXIT.ok;
      } catch (err) {
        const e = err instanceof SgError && err.code === 'SG_ERR_MONITOR_QUERY' ? asUsage(err) : err;
        process.stderr.write(`${errorLine(e)}\n`);
        // a store the CLI cannot read is a run-time failure here, not a start-up one (monitoring.md section 11)
        process.exitCode = e instanceof SgError && e.code === 'SG_ERR_MONITOR_SCHEMA' ? EXIT.runtime : exitCodeOf(e);
      }
    });
}

function asUsage(err: SgError): SgError {
  return new SgError('SG_ERR_INVALID_OPTION', err.message, { details: err.details });
}

async function fromStore(flags: Flags): Promise<{ rows: EndpointRow[]; source: string }> {
  const url = flags.store ?? (process.env.SERVEGRAPH_STORE || 'sqlite:./servegraph.db');
  const store = openStore(url);
  try {
    // the CLI never migrates: it reads stores of versions it knows; a file with no schema yet is an empty store
    try {
      await store.open({ readOnly: true });
    } catch (err) {
      if (err instanceof SgError && err.code === 'SG_ERR_MONITOR_SCHEMA' && /version 0\b/.test(err.message)) {
        return { rows: [], source: store.displayUrl };
      }
      throw err;
    }
    const now = Date.now();
    const records = await store.listEndpoints({ graph: flags.graph, all: flags.all === true, now });
    const rows = await Promise.all(
      records.map(async (r) => ({
        ...r,
        stats: await endpointStats(store, {
          endpoint: r.name,
          uid: r.uid!,
          window: flags.window,
          lastRequestAt: r.lastRequestAt,
          now,
        }),
      })),
    );
    return { rows, source: store.displayUrl };
  } finally {
    await store.close().catch(() => {});
  }
}

async function fromServer(flags: Flags): Promise<{ rows: EndpointRow[]; source: string }> {
  const base = flags.url!.replace(/\/+$/, '');
  const q = new URLSearchParams({ window: flags.window, all: String(flags.all === true) });
  const headers: Record<string, string> = {};
  const token = process.env.SERVEGRAPH_AUTH_TOKEN;
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(`${base}/endpoints?${q}`, { headers });
  } catch (err) {
    throw new SgError('SG_ERR_MONITOR_STORE_UNAVAILABLE', `cannot reach ${base}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const body = (await res.json().catch(() => ({}))) as {
    endpoints?: EndpointRow[];
    error?: { code: string; message: string };
  };
  if (!res.ok || body.endpoints === undefined) {
    const code = body.error?.code ?? 'SG_ERR_MONITOR_STORE_UNAVAILABLE';
    throw new SgError(
      code.startsWith('SG_ERR_') ? code : 'SG_ERR_MONITOR_STORE_UNAVAILABLE',
      `${base}/endpoints answered ${res.status}: ${body.error?.message ?? ''}`,
    );
  }
  const rows = flags.graph === undefined ? body.endpoints : body.endpoints.filter((e) => e.graph === flags.graph);
  return { rows, source: base };
}
