// The dashboard's routes over plain HTTP (monitoring.md section 10; http.md "Routes" and "Limits").
import { describe, expect, test } from 'vitest';
import { endpointHealth } from '../../src/server/http/dashboard/health.js';
import { type RawResponse, send } from '../integration/http-helpers.js';
import { CSP, start, supportGraph, traffic } from './dashboard-fixtures.js';

const get = (url: string, path: string, headers: Record<string, string> = {}) => send(url, { path, headers });
const errorOf = (r: RawResponse) => (r.json() as { error: { code: string; message: string } }).error;

/** The health class of each endpoint node of a graph drawing. */
function nodeClasses(svg: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of svg.matchAll(/<g class="([^"]*)" data-endpoint="([^"]*)">/g)) out[m[2]!] = m[1]!;
  return out;
}

describe('the dashboard routes', () => {
  test('the page, its assets, graph.svg and state.json carry the CSP; assets are revalidated by ETag', async () => {
    const app = await start();
    for (const [path, type] of [
      ['/dashboard', 'text/html'],
      ['/dashboard/assets/dashboard.js', 'text/javascript'],
      ['/dashboard/assets/dashboard.css', 'text/css'],
      ['/dashboard/assets/graph.css', 'text/css'],
      ['/dashboard/assets/endpoint-format.js', 'text/javascript'],
      ['/dashboard/assets/uPlot.esm.js', 'text/javascript'],
      ['/dashboard/assets/uPlot.min.css', 'text/css'],
      ['/dashboard/graph.svg', 'image/svg+xml'],
      ['/dashboard/state.json', 'application/json'],
    ] as const) {
      const r = await get(app.url, path);
      expect(r.status, path).toBe(200);
      expect(r.headers['content-type'], path).toContain(type);
      expect(r.headers['content-security-policy'], path).toBe(CSP);
    }
    const page = await get(app.url, '/dashboard');
    // no inline script or style: the CSP would refuse them
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)|<style|\sstyle=/);
    const js = await get(app.url, '/dashboard/assets/dashboard.js');
    expect(js.headers['cache-control']).toBe('no-cache');
    const again = await get(app.url, '/dashboard/assets/dashboard.js', { 'if-none-match': String(js.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    // the formatter is the CLI's own module, compiled, without a source map to chase
    const format = await get(app.url, '/dashboard/assets/endpoint-format.js');
    expect(format.text).toContain('export function endpointCells');
    expect(format.text).not.toContain('sourceMappingURL');
    expect((await get(app.url, '/dashboard/state.json')).headers['cache-control']).toBe('no-store');
  });

  test('unknown assets and paths that try to leave the assets are 404 SG_ERR_NOT_FOUND', async () => {
    const app = await start();
    for (const path of [
      '/dashboard/assets/nope.js',
      '/dashboard/assets/index.html',
      '/dashboard/assets/',
      '/dashboard/assets/../../package.json',
      '/dashboard/assets/..%2f..%2fpackage.json',
      '/dashboard/assets/%2e%2e/%2e%2e/package.json',
      '/dashboard/assets/dashboard.js/..',
      '/dashboard/assets/uplot/dist/uPlot.esm.js',
    ]) {
      const r = await get(app.url, path);
      expect(r.status, path).toBe(404);
      expect(errorOf(r).code, path).toBe('SG_ERR_NOT_FOUND');
      expect(r.headers['content-security-policy'], path).toBe(CSP);
    }
  });

  test('other methods are 405; bad page parameters are 400', async () => {
    const app = await start();
    for (const path of ['/dashboard', '/dashboard/graph.svg', '/dashboard/assets/dashboard.js']) {
      const r = await send(app.url, { method: 'POST', path, body: '{}' });
      expect(r.status, path).toBe(405);
      expect(errorOf(r).code).toBe('SG_ERR_METHOD_NOT_ALLOWED');
      expect(r.headers.allow).toBe('GET, HEAD');
    }
    for (const [path, code] of [
      ['/dashboard?refresh=0s', 'SG_ERR_BAD_REQUEST'],
      ['/dashboard?refresh=61s', 'SG_ERR_BAD_REQUEST'],
      ['/dashboard?refresh=2', 'SG_ERR_BAD_REQUEST'],
      ['/dashboard?window=2h', 'SG_ERR_MONITOR_QUERY'],
      ['/dashboard/graph.svg?window=5', 'SG_ERR_MONITOR_QUERY'],
    ] as const) {
      const r = await get(app.url, path);
      expect(r.status, path).toBe(400);
      expect(errorOf(r).code, path).toBe(code);
    }
    expect((await get(app.url, '/dashboard?refresh=60s&window=1h')).status).toBe(200);
  });

  test('graph.svg: endpoint nodes with a health class from their figures, and no style at all', async () => {
    const app = await start();
    let svg = (await get(app.url, '/dashboard/graph.svg')).text;
    expect(svg).toContain('data-step="assistant"');
    expect(nodeClasses(svg)).toEqual({ chat: 'sg-endpoint sg-ok' });
    expect(svg).not.toMatch(/<style|\sstyle=/);

    await traffic(app, 30, (i) => i === 3);
    svg = (await get(app.url, '/dashboard/graph.svg')).text;
    expect(nodeClasses(svg)).toEqual({ chat: 'sg-endpoint sg-warn' }); // 1 in 30: under 5%, a warning
    await traffic(app, 1, () => true);
    svg = (await get(app.url, '/dashboard/graph.svg?window=5m')).text;
    expect(nodeClasses(svg)).toEqual({ chat: 'sg-endpoint sg-bad' });
    expect(svg).not.toMatch(/<style|\sstyle=/);
    // the renderer's other callers still get a standalone drawing
    expect(supportGraph().toSvg({ standalone: true })).toContain('<style');
  });

  test('state.json: the header figures', async () => {
    const app = await start();
    const state = (await get(app.url, '/dashboard/state.json')).json();
    expect(state).toMatchObject({
      graph: 'support',
      tracking: 'on',
      store: 'sqlite::memory:',
      droppedRecords: 0,
      droppedByReason: { buffer_full: 0, store_error: 0, shutdown: 0, internal: 0 },
      monitoringApi: true,
    });
    expect((state as { uptimeSeconds: number }).uptimeSeconds).toBeGreaterThanOrEqual(0);
  });

  test('tracking off: the page and the graph are served, state.json says off, nodes by state only', async () => {
    const app = await start(supportGraph(), { tracking: false });
    expect((await get(app.url, '/dashboard')).status).toBe(200);
    expect((await get(app.url, '/dashboard/state.json')).json()).toMatchObject({ tracking: 'off', store: null });
    await traffic(app, 2, () => true);
    const svg = (await get(app.url, '/dashboard/graph.svg')).text;
    expect(nodeClasses(svg)).toEqual({ chat: 'sg-endpoint sg-ok' });
    const list = (await get(app.url, '/endpoints')).json() as {
      tracking: string;
      endpoints: Array<{ stats: unknown }>;
    };
    expect(list.tracking).toBe('off');
    expect(list.endpoints[0]!.stats).toBeNull();
  });

  test('dashboard: false leaves its paths to the graph', async () => {
    const app = await start(supportGraph(), { dashboard: false });
    const r = await get(app.url, '/dashboard/graph.svg');
    expect(r.headers['content-security-policy']).toBeUndefined();
    expect(r.headers['content-type']).not.toContain('image/svg+xml');
  });
});

describe('the dashboard with authToken', () => {
  const TOKEN = 'dashboard-secret';

  test('?token= sets the cookie and drops the token from the address; the cookie opens the dashboard and the API only', async () => {
    const app = await start(supportGraph(), { authToken: TOKEN });
    const refused = await get(app.url, '/dashboard');
    expect(refused.status).toBe(401);
    expect(errorOf(refused).code).toBe('SG_ERR_UNAUTHORIZED');
    expect(refused.headers['www-authenticate']).toBe('Bearer');
    expect(refused.headers['content-security-policy']).toBe(CSP);
    const wrong = await get(app.url, '/dashboard?token=nope&refresh=1s');
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();

    const right = await get(app.url, `/dashboard?refresh=1s&token=${TOKEN}&window=1h`);
    expect(right.status).toBe(303);
    expect(right.headers.location).toBe('/dashboard?refresh=1s&window=1h');
    expect(right.headers['set-cookie']).toEqual([`servegraph_auth=${TOKEN}; HttpOnly; SameSite=Strict; Path=/`]);

    const cookie = { cookie: `servegraph_auth=${TOKEN}` };
    for (const path of [
      '/dashboard',
      '/dashboard/assets/dashboard.js',
      '/dashboard/graph.svg',
      '/dashboard/state.json',
      '/endpoints',
    ]) {
      expect((await get(app.url, path, cookie)).status, path).toBe(200);
    }
    // under /dashboard/ but not a dashboard route: the graph's, which takes the Bearer header only
    expect((await get(app.url, '/dashboard/other', cookie)).status).toBe(401);
    expect((await get(app.url, '/dashboard/graph.svg', { cookie: 'servegraph_auth=wrong' })).status).toBe(401);
    expect((await get(app.url, '/dashboard/state.json', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });
});

describe('health', () => {
  test('health: bad from 5% errors or state error, warning below or when stopped, else ok', () => {
    const e = (state: 'serving' | 'error' | 'stopped' | 'loading', errorRate: number | null) => ({
      name: 'm',
      state,
      stats: { errorRate },
    });
    expect(endpointHealth(e('serving', 0.05))).toBe('sg-bad');
    expect(endpointHealth(e('serving', 0.049))).toBe('sg-warn');
    expect(endpointHealth(e('serving', 0))).toBe('sg-ok');
    expect(endpointHealth(e('serving', null))).toBe('sg-ok');
    expect(endpointHealth(e('error', 0))).toBe('sg-bad');
    expect(endpointHealth(e('stopped', null))).toBe('sg-warn');
    expect(endpointHealth(e('stopped', 0.5))).toBe('sg-bad');
    expect(endpointHealth({ name: 'm', state: 'loading', stats: null })).toBe('sg-ok');
  });
});
