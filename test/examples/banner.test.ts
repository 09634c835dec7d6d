// `servegraph serve` prints a graph module's `banner({ url })` under its serving line (the demo's "open this,
// try that"); a banner that fails only warns: the server serves on. Needs `npm run build`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postJson } from '../integration/http-helpers.js';
import { assertBuilt, startServe } from './helpers.js';

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);
let cwd: string;

beforeAll(() => {
  assertBuilt();
  cwd = mkdtempSync(join(tmpdir(), 'sg-banner-'));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('the banner of a graph module', () => {
  test.each([
    ['banner-throws.mjs', "banner({ url }) of '", "' failed: no banner today"],
    ['banner-not-function.mjs', "export 'banner' of '", "' must be a function ({ url }) => string, got"],
  ])('%s: a warning on stderr, nothing on stdout after the serving line, and the graph serves', async (file, a, b) => {
    const served = await startServe([fixture(file), '--port', '0', '--quiet'], { cwd });
    try {
      expect(served.stdout()).toBe(`servegraph: serving graph '${file.replace('.mjs', '')}' at ${served.url}\n`);
      const reply = await postJson(served.url, { n: 1 });
      expect(reply.status).toBe(200);
      expect(reply.json()).toEqual({ echoed: { n: 1 } });
      const warning = served
        .stderr()
        .split('\n')
        .find((l) => l.startsWith('servegraph: warning: '));
      expect(warning).toContain(a);
      expect(warning).toContain(b);
    } finally {
      expect(await served.stop()).toBe(0);
    }
  });
});
