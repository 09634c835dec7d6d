import { PostgresStore } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { MonitorStore } from './store.js';
import { parseStoreUrl } from './store-url.js';

/** The store a URL names (section 7); an unsupported URL is SG_ERR_MONITOR_STORE_URL. */
export function openStore(url: string): MonitorStore {
  const parsed = parseStoreUrl(url);
  return parsed.kind === 'postgres' ? new PostgresStore(url) : new SqliteStore(url);
}
