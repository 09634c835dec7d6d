import { type EndpointCells, type EndpointRow, endpointCells } from './endpoint-format.js';

export type { EndpointRow } from './endpoint-format.js';
export { utcSecond } from './endpoint-format.js';

/** The CLI's columns: heading and cell (monitoring.md section 8, "Command line"). */
const COLUMNS: ReadonlyArray<readonly [string, keyof EndpointCells]> = [
  ['GRAPH', 'graph'],
  ['ENDPOINT', 'endpoint'],
  ['STEP', 'step'],
  ['CLASS', 'modelClass'],
  ['STATE', 'state'],
  ['REQS', 'requests'],
  ['ERR%', 'errorRate'],
  ['P50', 'p50'],
  ['P95', 'p95'],
  ['P99', 'p99'],
  ['TOK IN', 'tokensIn'],
  ['TOK OUT', 'tokensOut'],
  ['LAST', 'lastRequest'],
];

/** The cells of one row of the table, in column order. */
export function rowCells(e: EndpointRow): string[] {
  const cells = endpointCells(e);
  return COLUMNS.map(([, key]) => cells[key]);
}

/** The table: sorted by graph then endpoint; each column as wide as its widest cell plus two spaces, none after the last. */
export function endpointsTable(rows: readonly EndpointRow[]): string {
  const sorted = [...rows].sort((a, b) => a.graph.localeCompare(b.graph) || a.name.localeCompare(b.name));
  const lines = [COLUMNS.map(([head]) => head), ...sorted.map(rowCells)];
  const widths = COLUMNS.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return `${lines.map((l) => l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(widths[i] + 2))).join('')).join('\n')}\n`;
}
