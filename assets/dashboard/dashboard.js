// The servegraph dashboard (monitoring.md section 10): one module, no build step, no inline code (the page's CSP
// allows only files from this server). It polls the monitoring API and fills the page; a failed poll keeps the
// last data on screen and shows a stale badge.
import { endpointCells, formatMs, utcSecond } from './endpoint-format.js';
import uPlot from './uPlot.esm.js';

const WINDOWS = ['5m', '15m', '1h', '6h', '24h'];
/** 60 buckets over each window */
const STEPS = { '5m': '5s', '15m': '15s', '1h': '60s', '6h': '360s', '24h': '1440s' };
const COLUMNS = [
  'state',
  'requests',
  'errorRate',
  'p50',
  'p95',
  'p99',
  'ttfcP50',
  'tokensIn',
  'tokensOut',
  'lastRequest',
];
const NUMERIC = new Set(COLUMNS.slice(1, 9));
const ERRORS_SHOWN = 20;

const params = new URLSearchParams(location.search);
const ui = {
  window: WINDOWS.includes(params.get('window')) ? params.get('window') : '15m',
  refreshMs: refreshOf(params.get('refresh')),
  selected: null,
  endpoints: [],
  svgText: '',
  lastSuccess: null,
  timer: undefined,
  polling: null,
  again: false,
  charts: null,
};

/** `?refresh=5s`: 1 to 60 seconds, else the default 2 s (the server refuses other values before serving the page). */
function refreshOf(text) {
  const m = /^([1-9][0-9]?)s$/.exec(text ?? '');
  return m !== null && Number(m[1]) <= 60 ? Number(m[1]) * 1000 : 2000;
}

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

async function getJson(path) {
  const r = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new Error(body?.error ? `${body.error.code}: ${body.error.message}` : `${path}: HTTP ${r.status}`);
  return body;
}

async function getText(path) {
  const r = await fetch(path, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.text();
}

// ---- polling: every refreshMs while the tab shows; at once when it shows again ----

function schedule() {
  clearTimeout(ui.timer);
  ui.timer = document.hidden ? undefined : setTimeout(poll, ui.refreshMs);
}

/** One round of queries; a round asked for while one runs follows it (a window change, a row click). */
function poll() {
  clearTimeout(ui.timer);
  if (ui.polling !== null) {
    ui.again = true;
    return ui.polling;
  }
  ui.polling = pollOnce()
    .then(
      () => markFresh(),
      (err) => markStale(err),
    )
    .finally(() => {
      ui.polling = null;
      if (ui.again) {
        ui.again = false;
        poll();
      } else schedule();
    });
  return ui.polling;
}

async function pollOnce() {
  const state = await getJson('dashboard/state.json');
  showHeader(state);
  const svg = getText(`dashboard/graph.svg?window=${ui.window}`).then(showGraph);
  if (!state.monitoringApi) {
    await svg;
    throw new Error('the monitoring API is switched off on this server (monitoringApi: false)');
  }
  const list = await getJson(`endpoints?window=${ui.window}`);
  ui.endpoints = list.endpoints.filter((e) => e.tag === 'latest' || e.tag === null);
  if (!ui.endpoints.some((e) => e.name === ui.selected)) ui.selected = ui.endpoints[0]?.name ?? null;
  showTable(ui.endpoints);
  const tracked = list.tracking !== 'off';
  $('charts').hidden = !tracked;
  $('errors').hidden = !tracked;
  const work = [svg];
  if (tracked && ui.selected !== null) {
    const name = ui.selected;
    const q = `window=${ui.window}&step=${STEPS[ui.window]}`;
    work.push(getJson(`endpoints/${encodeURIComponent(name)}/series?${q}`).then((s) => showCharts(name, s)));
  }
  if (tracked) work.push(failedCalls(ui.endpoints).then(showErrors));
  await Promise.all(work);
}

function markFresh() {
  ui.lastSuccess = new Date();
  $('last-updated').textContent = `updated ${utcSecond(ui.lastSuccess.toISOString()).slice(11)} UTC`;
  $('stale')?.remove();
}

function markStale(err) {
  let badge = $('stale');
  if (badge === null) {
    badge = el('span', { 'data-testid': 'stale', class: 'badge stale', role: 'status' });
    $('last-updated').after(badge);
  }
  const since =
    ui.lastSuccess === null ? 'no data yet' : `last update ${utcSecond(ui.lastSuccess.toISOString()).slice(11)} UTC`;
  badge.textContent = `stale: ${since}`;
  badge.title = String(err?.message ?? err);
}

// ---- header ----

function showHeader(s) {
  document.title = `${s.graph} · servegraph`;
  $('graph-name').textContent = s.graph;
  const tracking = $('tracking-state');
  tracking.textContent = s.tracking;
  tracking.className = `badge tracking-${s.tracking}`;
  $('store-url').textContent = s.store ?? '–';
  $('uptime').textContent = uptimeText(s.uptimeSeconds);
  const dropped = $('dropped-records');
  dropped.textContent = String(s.droppedRecords);
  dropped.title = Object.entries(s.droppedByReason)
    .map(([reason, n]) => `${reason}: ${n}`)
    .join(', ');
  dropped.classList.toggle('alert', s.droppedRecords > 0);
  const notice = $('tracking-notice');
  notice.hidden = s.tracking === 'on';
  notice.textContent =
    s.tracking === 'off'
      ? 'Tracking is off for this graph: no call records are kept, so the endpoints below show their definitions only. Prometheus metrics at /metrics go on.'
      : s.tracking === 'degraded'
        ? 'The monitoring store is failing: tracking is degraded and the figures may be out of date until it is reopened.'
        : '';
}

function uptimeText(seconds) {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

// ---- the graph ----

function showGraph(text) {
  if (text === ui.svgText) return markSelected();
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  if (doc.querySelector('parsererror') !== null) throw new Error('graph.svg is not valid SVG');
  $('graph-svg').replaceChildren(document.importNode(doc.documentElement, true));
  ui.svgText = text;
  markSelected();
}

function markSelected() {
  for (const node of $('graph-svg').querySelectorAll('[data-endpoint]')) {
    node.classList.toggle('sg-selected', node.getAttribute('data-endpoint') === ui.selected);
  }
}

// ---- the endpoint table ----

function showTable(endpoints) {
  const body = $('endpoint-rows');
  const rows = new Map([...body.children].map((tr) => [tr.getAttribute('data-endpoint'), tr]));
  const wanted = endpoints.map((e) => {
    const tr = rows.get(e.name) ?? newRow(e.name);
    const cells = endpointCells(e);
    tr.querySelector('[data-col="step"]').textContent = cells.step;
    for (const col of COLUMNS) tr.querySelector(`[data-col="${col}"]`).textContent = cells[col];
    tr.querySelector('[data-col="state"]').className = `state state-${e.state}`;
    tr.classList.toggle('selected', e.name === ui.selected);
    tr.setAttribute('aria-selected', String(e.name === ui.selected));
    return tr;
  });
  body.replaceChildren(...wanted);
  $('endpoints-empty').hidden = endpoints.length > 0;
  $('selected-endpoint').textContent = ui.selected ?? '–';
}

function newRow(name) {
  const tr = el('tr', { 'data-testid': 'endpoint-row', 'data-endpoint': name, tabindex: '0' });
  tr.append(el('th', { scope: 'row', 'data-col': 'endpoint' }, name), el('td', { 'data-col': 'step' }));
  for (const col of COLUMNS) tr.append(el('td', { 'data-col': col, class: NUMERIC.has(col) ? 'num' : '' }));
  return tr;
}

function select(name) {
  if (name === null || name === ui.selected) return;
  ui.selected = name;
  for (const tr of $('endpoint-rows').children) {
    const on = tr.getAttribute('data-endpoint') === name;
    tr.classList.toggle('selected', on);
    tr.setAttribute('aria-selected', String(on));
  }
  $('selected-endpoint').textContent = name;
  markSelected();
  poll();
}

// ---- charts (uPlot) ----

const bars = uPlot.paths.bars({ size: [0.7, 24] });
const CHARTS = [
  {
    id: 'chart-latency',
    series: [
      // a bucket between empty ones (no latency) still shows as a point
      { label: 'p50', key: 'p50Ms', stroke: '#2563eb', points: true, value: (_u, v) => formatMs(v) },
      { label: 'p95', key: 'p95Ms', stroke: '#9333ea', points: true, value: (_u, v) => formatMs(v) },
    ],
  },
  {
    id: 'chart-requests',
    series: [
      { label: 'requests', key: 'count', stroke: '#0f766e', fill: 'rgba(15, 118, 110, 0.35)', paths: bars },
      { label: 'errors', key: 'errors', stroke: '#dc2626', fill: 'rgba(220, 38, 38, 0.7)', paths: bars },
    ],
  },
  {
    id: 'chart-tokens',
    series: [
      { label: 'in', key: 'tokensIn', stroke: '#ea580c' },
      { label: 'out', key: 'tokensOut', stroke: '#0891b2' },
    ],
  },
];

function chartWidth(box) {
  return Math.max(240, Math.floor(box.clientWidth) - 4);
}

function makeCharts() {
  const charts = CHARTS.map((c) => {
    const box = $(c.id);
    const series = c.series.map((s) => ({
      label: s.label,
      stroke: s.stroke,
      fill: s.fill,
      width: s.paths === undefined ? 2 : 1,
      paths: s.paths,
      points: { show: s.points === true, size: 5 },
      value: s.value ?? ((_u, v) => (v === null || v === undefined ? '-' : String(Math.round(v)))),
    }));
    const opts = {
      width: chartWidth(box),
      height: 170,
      series: [{}, ...series],
      // times in UTC, as in the table
      axes: [
        { values: (_u, splits) => splits.map((t) => new Date(t * 1000).toISOString().slice(11, 16)) },
        { size: 56 },
      ],
      scales: { x: { time: true } },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    };
    return { spec: c, box, plot: new uPlot(opts, [[], ...c.series.map(() => [])], box) };
  });
  new ResizeObserver(() => {
    for (const c of charts) c.plot.setSize({ width: chartWidth(c.box), height: 170 });
  }).observe($('charts'));
  return charts;
}

function showCharts(name, series) {
  if (name !== ui.selected) return;
  ui.charts ??= makeCharts();
  const xs = series.points.map((p) => Date.parse(p.t) / 1000);
  // a bar of height 0 would still draw its outline along the axis
  const column = (s) => series.points.map((p) => (s.paths !== undefined && p[s.key] === 0 ? null : p[s.key]));
  for (const c of ui.charts) c.plot.setData([xs, ...c.spec.series.map(column)]);
}

// ---- the last failed calls ----

async function failedCalls(endpoints) {
  const lists = await Promise.all(
    endpoints.map((e) =>
      getJson(`endpoints/${encodeURIComponent(e.name)}/calls?limit=${ERRORS_SHOWN}&outcome=error`).then((calls) =>
        calls.map((c) => ({ ...c, endpoint: e.name })),
      ),
    ),
  );
  return lists
    .flat()
    .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0))
    .slice(0, ERRORS_SHOWN);
}

function showErrors(calls) {
  const items = calls.map((c) => {
    const li = el('li', { 'data-code': c.errorCode ?? '', 'data-endpoint': c.endpoint });
    li.append(
      el('time', { datetime: c.startedAt, class: 'when' }, utcSecond(c.startedAt)),
      el('span', { class: 'endpoint' }, c.endpoint),
      el('code', { class: 'code' }, c.errorCode ?? '-'),
      el('span', { class: 'message' }, c.errorMessage ?? ''),
      el('span', { class: 'event', title: 'event id' }, c.eventId),
    );
    return li;
  });
  $('errors-list').replaceChildren(...items);
  $('errors-empty').hidden = items.length > 0;
}

// ---- wiring ----

const windowSelect = $('window-select');
windowSelect.value = ui.window;
windowSelect.addEventListener('change', () => {
  ui.window = windowSelect.value;
  const url = new URL(location.href);
  url.searchParams.set('window', ui.window);
  history.replaceState(null, '', url);
  poll();
});
$('endpoint-rows').addEventListener('click', (e) =>
  select(e.target.closest('tr')?.getAttribute('data-endpoint') ?? null),
);
$('endpoint-rows').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' || e.key === ' ') select(e.target.closest('tr')?.getAttribute('data-endpoint') ?? null);
});
$('graph-svg').addEventListener('click', (e) =>
  select(e.target.closest('[data-endpoint]')?.getAttribute('data-endpoint') ?? null),
);
document.addEventListener('visibilitychange', () => {
  if (document.hidden) clearTimeout(ui.timer);
  else poll();
});
poll();
