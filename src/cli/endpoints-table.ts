import type { EndpointRecord, EndpointStats } from '../monitoring/types.js';

export type EndpointRow = EndpointRecord & { stats: EndpointStats | null };

const HEAD = [
  'GRAPH',
  'ENDPOINT',
  'STEP',
  'CLASS',
  'STATE',
  'REQS',
  'ERR%',
  'P50',
  'P95',
  'P99',
  'TOK IN',
  'TOK OUT',
  'LAST',
];

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${Math.round(v)}ms`);
const tokens = (n: number | undefined, estimated: boolean | undefined) =>
  n === undefined ? '-' : `${estimated ? '~' : ''}${n}`;

/** `2026-11-24T21:07:03.412Z` → `2026-11-24T21:07:03Z` (UTC, to the second). */
export function utcSecond(iso: string | null): string {
  return iso === null ? '-' : `${iso.slice(0, 19)}Z`;
}

/** The cells of one row, as the CLI and the dashboard show them (monitoring.md section 8). */
export function rowCells(e: EndpointRow): string[] {
  const s = e.stats;
  return [
    e.graph,
    e.name,
    e.step,
    e.modelClass,
    e.state,
    s === null ? '-' : String(s.count),
    s === null || s.errorRate === null ? '-' : `${(s.errorRate * 100).toFixed(1)}%`,
    ms(s?.latencyMs.p50),
    ms(s?.latencyMs.p95),
    ms(s?.latencyMs.p99),
    tokens(s?.tokens.prompt, s?.tokens.estimated),
    tokens(s?.tokens.completion, s?.tokens.estimated),
    utcSecond(e.lastRequestAt),
  ];
}

/** The table: sorted by graph then endpoint; each column as wide as its widest cell plus two spaces, none after the last. */
export function endpointsTable(rows: readonly EndpointRow[]): string {
  const sorted = [...rows].sort((a, b) => a.graph.localeCompare(b.graph) || a.name.localeCompare(b.name));
  const lines = [HEAD, ...sorted.map(rowCells)];
  const widths = HEAD.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return `${lines.map((l) => l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(widths[i] + 2))).join('')).join('\n')}\n`;
}
