import { SgError } from '../../../errors/index.js';

/** The windows the page offers (monitoring.md section 10); 15m is the default. */
export const WINDOWS = ['5m', '15m', '1h', '6h', '24h'] as const;

type Query = Record<string, string | string[] | undefined>;

/** The last value of a query parameter given once or more. */
export function lastValue(q: Query, name: string): string | undefined {
  const v = q[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/**
 * `GET /dashboard`'s own parameters, checked before the page is served: `refresh` (the polling period, `1s` to
 * `60s`, default `2s`) and `window` (one of the selector's). The page reads them from its address.
 */
export function checkPageQuery(q: Query): void {
  const refresh = lastValue(q, 'refresh');
  if (refresh !== undefined) {
    const m = /^([1-9][0-9]?)s$/.exec(refresh);
    if (m === null || Number(m[1]) > 60) {
      throw new SgError('SG_ERR_BAD_REQUEST', `refresh must be 1s to 60s (e.g. refresh=5s), got '${refresh}'`, {
        details: { parameter: 'refresh' },
      });
    }
  }
  const window = lastValue(q, 'window');
  if (window !== undefined && !(WINDOWS as readonly string[]).includes(window)) {
    throw new SgError('SG_ERR_MONITOR_QUERY', `window must be one of ${WINDOWS.join(', ')}, got '${window}'`, {
      details: { parameter: 'window' },
    });
  }
}
