// The README's quick start, as a newcomer meets it: `npm start` serves the demo, which prints where the dashboard
// is and a curl to try; the README's curl lines get the answers it shows (JSON, and SSE); the dashboard answers.
// The server runs as `npm start` runs it (`node dist/cli/main.js serve <demo>`, without npm ci and the build) on a
// free port, in a temporary folder, so its servegraph.db is never left in the work tree. Needs `npm run build`.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { send } from '../integration/http-helpers.js';
import { assertBuilt, parseCurl, ROOT, type ServedChild, sseEvents, startServe } from './helpers.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\r\n/g, '\n');
const quickStart = /## Quick start\n([\s\S]*?)\n## /.exec(README)?.[1] ?? '';
/** The fenced blocks of the quick start, by language. */
const blocks = [...quickStart.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], text: m[2]! }));
const START = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts
  .start;
const demoPath = /^npm run build && node dist\/cli\/main\.js serve (\S+)$/.exec(START)?.[1];

/** The curl lines of the quick start, each with the `# ` lines shown after it. */
function curlLines(): Array<{ line: string; shown: string[] }> {
  const sh = blocks.filter((b) => b.lang === 'sh').flatMap((b) => b.text.split('\n'));
  const out: Array<{ line: string; shown: string[] }> = [];
  for (const l of sh) {
    if (l.startsWith('curl ')) out.push({ line: l, shown: [] });
    else if (l.startsWith('# ') && out.length > 0) out.at(-1)!.shown.push(l.slice(2));
  }
  return out;
}

/** The same request against the server that was started (the README says localhost:8080). */
function requestOf(line: string, url: string) {
  const req = parseCurl(line);
  const { pathname } = new URL(req.url);
  return send(url, {
    method: req.body === undefined ? 'GET' : 'POST',
    path: pathname,
    headers: req.headers,
    body: req.body,
  });
}

const dbExistedBefore = existsSync(join(ROOT, 'servegraph.db'));
let cwd: string;
let served: ServedChild;

beforeAll(async () => {
  assertBuilt();
  expect(demoPath, `package.json start: ${START}`).toBeDefined();
  cwd = mkdtempSync(join(tmpdir(), 'sg-quickstart-'));
  // the banner comes right after the serving line: wait for its last line
  served = await startServe([join(ROOT, demoPath!), '--port', '0'], { cwd, readyWhen: (out) => /^JSON: /m.test(out) });
}, 90_000);

afterAll(async () => {
  if (served) expect(await served.stop()).toBe(0);
  if (cwd) rmSync(cwd, { recursive: true, force: true });
  expect(existsSync(join(ROOT, 'servegraph.db')), 'servegraph.db left in the work tree').toBe(dbExistedBefore);
});

describe('the README quick start', () => {
  test('the first command is `npm ci && npm start`, and `npm start` builds, then serves the demo', () => {
    expect(blocks[0]?.text.split('\n')[0]).toBe('npm ci && npm start');
    expect(demoPath).toBe('examples/demo/graph.mjs');
  });

  test('it prints the lines the README shows: the serving line, the dashboard and one curl to try', () => {
    const { host } = new URL(served.url);
    const shown = blocks
      .find((b) => b.lang === 'text')!
      .text.trim()
      .split('\n');
    expect(shown.length).toBeGreaterThanOrEqual(3);
    for (const line of shown) expect(served.stdout()).toContain(line.replaceAll('127.0.0.1:8080', host));
    expect(served.stdout()).toContain(`dashboard: ${served.url}/dashboard`);
  });

  test("the banner's curl streams an answer over SSE: chunks, then done with the usage", async () => {
    const line = /^try:\s+(curl .*)$/m.exec(served.stdout())![1]!;
    const res = await requestOf(line, served.url);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = sseEvents(res.text);
    expect(events.length).toBeGreaterThan(2);
    expect(events.slice(0, -1).every((e) => e.event === 'chunk')).toBe(true);
    expect(events.at(-1)!.event).toBe('done');
    const done = JSON.parse(events.at(-1)!.data) as { chunks: number; usage: { completion_tokens: number } };
    expect(done.chunks).toBe(events.length - 1);
    expect(done.usage.completion_tokens).toBe(done.chunks);
  });

  test('the README curl lines get what the README shows: an SSE stream and a JSON answer', async () => {
    const lines = curlLines();
    expect(lines.map((l) => parseCurl(l.line).headers.accept)).toEqual([undefined, 'application/json']);
    const [sse, json] = lines;

    const streamed = await requestOf(sse!.line, served.url);
    expect(streamed.status).toBe(200);
    const events = sseEvents(streamed.text);
    const firstData = sse!.shown.find((l) => l.startsWith('data: '))!.slice('data: '.length);
    expect(events[0]).toMatchObject({ event: 'chunk', data: firstData });
    const shownDone = JSON.parse(sse!.shown.at(-1)!.slice('data: '.length)) as Record<string, unknown>;
    const done = JSON.parse(events.at(-1)!.data) as Record<string, unknown>;
    expect({ ...done, id: '…' }).toEqual(shownDone);

    const whole = await requestOf(json!.line, served.url);
    expect(whole.status).toBe(200);
    expect(whole.headers['content-type']).toMatch(/^application\/json/);
    expect(whole.json()).toEqual(JSON.parse(json!.shown[0]!));
  });

  test('a bad request is a 400 naming the field, and the server goes on', async () => {
    const res = await send(served.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: '{"question":"no text field"}',
    });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'SG_ERR_BAD_REQUEST', step: 'preprocess' } });
    expect((await send(served.url, { path: '/readyz' })).status).toBe(200);
  });

  test('GET /dashboard is an HTML page', async () => {
    const res = await send(served.url, { path: '/dashboard' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toMatch(/<html/i);
  });

  test('monitoring goes to ./servegraph.db: every endpoint of the demo is recorded, with its calls', async () => {
    await requestOf(curlLines()[1]!.line, served.url);
    expect(existsSync(join(cwd, 'servegraph.db'))).toBe(true);
    const res = await send(served.url, { path: '/endpoints?window=15m' });
    expect(res.status).toBe(200);
    const { endpoints } = res.json() as { endpoints: Array<{ name: string; stats: { count: number } | null }> };
    expect(endpoints.map((e) => e.name).sort()).toEqual(['cooking', 'finance', 'sentiment', 'tech', 'travel']);
    const count = (name: string) => endpoints.find((e) => e.name === name)?.stats?.count ?? 0;
    expect(count('sentiment')).toBeGreaterThan(0);
    expect(count('cooking')).toBeGreaterThan(0);
  });
});
