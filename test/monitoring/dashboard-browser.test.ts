// The dashboard in headless Chromium (monitoring.md sections 10 and 12): playwright-core drives the distribution's
// chromium (CHROMIUM_PATH; nothing is downloaded). Skipped, saying so, without CHROMIUM_PATH unless CI=true.
import { mkdirSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import type { HttpServer } from '../../src/index.js';
import { send } from '../integration/http-helpers.js';
import { CSP, start, supportGraph, traffic } from './dashboard-fixtures.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '';
const UNDER_CI = process.env.CI === 'true';
const ARTIFACTS = 'test-artifacts';
/** background networking and updates off: the browser talks to the test's server only */
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const row = (name: string, col: string) => `[data-testid="endpoint-row"][data-endpoint="${name}"] [data-col="${col}"]`;

/** Wait until the text of `selector` is `want` (polling from the test: the page polls the server). */
/** Wait until `check` answers true (polled every 100 ms, for up to `seconds`). */
async function until(check: () => Promise<boolean>, what: string, seconds = 10): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function untilText(page: Page, selector: string, want: string, seconds = 10): Promise<void> {
  const end = Date.now() + seconds * 1000;
  let last: string | null = null;
  while (Date.now() < end) {
    last = await page
      .locator(selector)
      .first()
      .textContent({ timeout: 500 })
      .catch(() => null);
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${selector}: expected '${want}' within ${seconds} s, last saw '${last}'`);
}

/** Console errors and refused requests of a page: a CSP violation shows up in both. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  return problems;
}

function describeChromium(name: string, fn: () => void): void {
  if (CHROMIUM === '' && UNDER_CI) {
    describe(name, () => {
      it('needs CHROMIUM_PATH (required under CI=true)', () => {
        throw new Error('CHROMIUM_PATH not set: .ci/run must install chromium and export it');
      });
    });
    return;
  }
  describe.skipIf(CHROMIUM === '')(
    CHROMIUM === '' ? `${name} (skipped: CHROMIUM_PATH not set, no browser for it)` : name,
    fn,
  );
}

describeChromium('the dashboard in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    // launch() gives each browser a fresh temporary profile (user-data-dir), removed when it closes
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function open(app: HttpServer, path: string): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    const problems = watch(page);
    const response = await page.goto(`${app.url}${path}`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toBe(CSP);
    return { page, problems };
  }

  test('shows the requests, error rate and failed calls of an endpoint, follows new traffic, colours the graph', async () => {
    const app = await start();
    // the runner answers failures in the reply (raiseException: false): every request is a 200
    expect(await traffic(app, 20, (i) => i === 4 || i === 13)).toHaveLength(20);
    const { page, problems } = await open(app, '/dashboard?refresh=1s');

    await untilText(page, '[data-testid="graph-name"]', 'support');
    await untilText(page, '[data-testid="tracking-state"]', 'on');
    await untilText(page, row('chat', 'requests'), '20');
    await untilText(page, row('chat', 'errorRate'), '10.0%');
    await untilText(page, '[data-testid="dropped-records"]', '0');
    // the failed calls and the drawing come from polls of their own
    const errorItems = page.locator('[data-testid="errors-list"] li');
    await until(async () => (await errorItems.count()) === 2, 'two failed calls listed');
    const codes = await page
      .locator('[data-testid="errors-list"] li')
      .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-code')));
    expect(codes).toEqual(['SG_ERR_PROVIDER_HTTP', 'SG_ERR_PROVIDER_HTTP']);
    // 2 in 20 is 10%: the endpoint node is drawn bad
    const node = page.locator('[data-testid="graph-svg"] [data-endpoint="chat"]');
    await until(async () => ((await node.getAttribute('class')) ?? '').includes('sg-bad'), 'the node drawn sg-bad');
    // the stylesheet, not the SVG, gives it its colour (graph.css: sg-bad boxes are #fee2e2)
    const box = `document.querySelector('[data-testid="graph-svg"] [data-endpoint="chat"] .sg-endpoint-box')`;
    const fill = await page.evaluate(`getComputedStyle(${box}).fill`);
    expect(fill).toBe('rgb(254, 226, 226)');
    for (const chart of ['chart-latency', 'chart-requests', 'chart-tokens']) {
      expect(await page.locator(`[data-testid="${chart}"] canvas`).count(), chart).toBeGreaterThan(0);
    }
    expect(await page.locator('[data-testid="window-select"]').inputValue()).toBe('15m');

    await traffic(app, 10);
    await untilText(page, row('chat', 'requests'), '30', 3);
    await untilText(page, row('chat', 'errorRate'), '6.7%');
    expect(await page.locator('[data-testid="stale"]').count()).toBe(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/dashboard.png`, fullPage: true });
    // nothing refused by the CSP, no script error, no failed request
    expect(problems).toEqual([]);

    // the server goes away: the last data stays, with a stale badge
    await app.close({ graceMs: 0 });
    await page.locator('[data-testid="stale"]').waitFor({ timeout: 5000 });
    expect(await page.locator(row('chat', 'requests')).textContent()).toBe('30');
  });

  test('with authToken: ?token= once, then the page, its assets and its polls work on the cookie', async () => {
    const TOKEN = 'browser-secret';
    const app = await start(supportGraph(), { authToken: TOKEN });
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect(await traffic(app, 4, (i) => i === 0, auth)).toHaveLength(4);
    expect((await send(app.url, { path: '/dashboard' })).status).toBe(401);

    const { page, problems } = await open(app, `/dashboard?token=${TOKEN}&refresh=1s`);
    expect(new URL(page.url()).search).toBe('?refresh=1s');
    await untilText(page, row('chat', 'requests'), '4');
    await untilText(page, row('chat', 'errorRate'), '25.0%');
    const errorItems = page.locator('[data-testid="errors-list"] li');
    await until(async () => (await errorItems.count()) === 1, 'one failed call listed');
    await traffic(app, 2, () => false, auth);
    await untilText(page, row('chat', 'requests'), '6');
    expect(problems).toEqual([]);
    // the cookie is HttpOnly: the page's script cannot read it
    expect(await page.evaluate('document.cookie')).toBe('');
  });

  test('a hidden tab stops polling; shown again, it polls at once', async () => {
    const app = await start();
    const { page, problems } = await open(app, '/dashboard?refresh=2s');
    await untilText(page, '[data-testid="tracking-state"]', 'on');
    const polls: number[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/dashboard/state.json') polls.push(Date.now());
    });
    const setHidden = (hidden: boolean) =>
      page.evaluate(`(() => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${hidden} });
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${hidden ? 'hidden' : 'visible'}' });
        document.dispatchEvent(new Event('visibilitychange'));
      })()`);
    await until(async () => polls.length >= 1, 'a poll while shown');
    await setHidden(true);
    // a poll already under way may finish; after it, none for more than two refresh periods
    await new Promise((r) => setTimeout(r, 1000));
    const whileHidden = polls.length;
    await new Promise((r) => setTimeout(r, 5000));
    expect(polls.length).toBe(whileHidden);
    const shownAt = Date.now();
    await setHidden(false);
    await until(async () => polls.length > whileHidden, 'a poll once shown');
    // at once, not a refresh period (2 s) later
    expect((polls[whileHidden]! - shownAt) / 1000).toBeLessThan(1.5);
    expect(problems).toEqual([]);
  });

  test('tracking off: the graph and the definitions, with a notice', async () => {
    const app = await start(supportGraph(), { tracking: false });
    const { page, problems } = await open(app, '/dashboard?refresh=1s');
    await untilText(page, '[data-testid="tracking-state"]', 'off');
    await untilText(page, row('chat', 'state'), 'serving');
    expect(await page.locator(row('chat', 'requests')).textContent()).toBe('-');
    expect(await page.locator('[data-testid="tracking-notice"]').isVisible()).toBe(true);
    expect(await page.locator('[data-testid="graph-svg"] [data-endpoint="chat"]').count()).toBe(1);
    expect(await page.locator('[data-testid="chart-latency"]').isVisible()).toBe(false);
    expect(problems).toEqual([]);
  });
});
