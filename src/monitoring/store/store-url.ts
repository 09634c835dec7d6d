import { SgError } from '../../errors/index.js';

/** What a store URL names (monitoring.md section 7). */
export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

const SQLITE = 'sqlite:';
const POSTGRES = /^postgres(ql)?:\/\//i;

/** The password of a URL's user information (`scheme://user:password@host`), up to the last `@` of the authority. */
const USERINFO_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^/?#]*@/i;
/** A password given as a query parameter (`?password=…`), which `pg` also reads. */
const QUERY_PASSWORD = /([?&]password=)[^&#]*/gi;

/** A store URL as shown to people: a password, in the user information or the query, replaced by `***`. */
export function displayUrl(url: string): string {
  return url.replace(USERINFO_PASSWORD, '$1:***@').replace(QUERY_PASSWORD, '$1***');
}

function unsupported(url: string, why: string): SgError {
  const shown = displayUrl(url);
  return new SgError(
    'SG_ERR_MONITOR_STORE_URL',
    `unsupported store URL "${shown}": ${why}; expected sqlite:<path>, sqlite::memory: or ` +
      'postgres://user:pass@host:5432/db',
    { details: { url: shown } },
  );
}

/**
 * Which store a URL names: `sqlite:<path>` (relative to the working folder), `sqlite::memory:`, or
 * `postgres://…` / `postgresql://…` (kept whole for `pg`). Any other URL is SG_ERR_MONITOR_STORE_URL, naming the
 * URL with its password masked.
 */
export function parseStoreUrl(url: string): StoreLocation {
  if (typeof url !== 'string') throw unsupported(String(url), 'not a string');
  if (url.startsWith(SQLITE)) {
    const path = url.slice(SQLITE.length);
    if (path === '') throw unsupported(url, 'the SQLite path is empty');
    return { kind: 'sqlite', path };
  }
  if (POSTGRES.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw unsupported(url, 'not a valid PostgreSQL URL');
    }
    if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
      throw unsupported(url, 'the PostgreSQL URL names no host');
    }
    return { kind: 'postgres', url };
  }
  throw unsupported(url, 'unknown scheme');
}
