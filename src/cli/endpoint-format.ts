// The endpoint figures as text, the one set of rules for `servegraph endpoints` and the dashboard
// (monitoring.md section 8, "Command line"; section 10). The dashboard's browser script imports the compiled
// file as it is (served under /dashboard/assets/), so this module must stay free of runtime imports.
import type { EndpointRecord, EndpointStats } from '../monitoring/types.js';

/** One endpoint as `GET /endpoints` lists it: the record and its figures (null with tracking off). */
export type EndpointRow = EndpointRecord & { stats: EndpointStats | null };

/** The cells of one endpoint, by column: `-` stands for null. */
export type EndpointCells = {
  graph: string;
  endpoint: string;
  step: string;
  modelClass: string;
  state: string;
  requests: string;
  errorRate: string;
  p50: string;
  p95: string;
  p99: string;
  ttfcP50: string;
  tokensIn: string;
  tokensOut: string;
  lastRequest: string;
};

/** Whole milliseconds with `ms`: `812.4` → `812ms`. */
export function formatMs(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : `${Math.round(v)}ms`;
}

/** A token sum, with `~` when estimated. */
export function formatTokens(n: number | null | undefined, estimated: boolean | undefined): string {
  return n === null || n === undefined ? '-' : `${estimated ? '~' : ''}${n}`;
}

/** An error rate as a percentage with one decimal: `0.025` → `2.5%`. */
export function formatErrorRate(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '-' : `${(rate * 100).toFixed(1)}%`;
}

/** `2026-11-24T21:07:03.412Z` → `2026-11-24T21:07:03Z` (UTC, to the second). */
export function utcSecond(iso: string | null): string {
  return iso === null ? '-' : `${iso.slice(0, 19)}Z`;
}

/** Every cell of one endpoint, as the CLI and the dashboard show them. */
export function endpointCells(e: EndpointRow): EndpointCells {
  const s = e.stats;
  return {
    graph: e.graph,
    endpoint: e.name,
    step: e.step,
    modelClass: e.modelClass,
    state: e.state,
    requests: s === null ? '-' : String(s.count),
    errorRate: formatErrorRate(s?.errorRate),
    p50: formatMs(s?.latencyMs.p50),
    p95: formatMs(s?.latencyMs.p95),
    p99: formatMs(s?.latencyMs.p99),
    ttfcP50: formatMs(s?.ttfcMs?.p50),
    tokensIn: formatTokens(s?.tokens.prompt, s?.tokens.estimated),
    tokensOut: formatTokens(s?.tokens.completion, s?.tokens.estimated),
    lastRequest: utcSecond(e.lastRequestAt),
  };
}
