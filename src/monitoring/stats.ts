import { SgError } from '../errors/index.js';

const WINDOW_RE = /^([1-9][0-9]*)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A window such as '15m' in milliseconds (monitoring.md section 8). */
export function windowMs(window: string): number {
  const m = WINDOW_RE.exec(window);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : Number.NaN;
  if (!m || ms < 10_000 || ms > 365 * UNIT_MS.d) {
    throw new SgError(
      'SG_ERR_MONITOR_QUERY',
      `window must match ^[1-9][0-9]*(s|m|h|d)$, from 10s to 365d, got '${window}'`,
      {
        details: { parameter: 'window' },
      },
    );
  }
  return ms;
}
