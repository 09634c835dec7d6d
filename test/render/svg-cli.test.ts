// `servegraph graph <file> --format svg` prints the standalone SVG (needs `npm run build` first).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { Graph } from '../../src/index.js';
import { allElements, parseXml } from './xml-check.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const hello = `${root}examples/hello/graph.yaml`;

describe('servegraph graph --format svg', () => {
  test('prints the standalone SVG of the graph: the same as toSvg({ embedStyles: true })', () => {
    const r = spawnSync(process.execPath, [`${root}dist/cli/main.js`, 'graph', hello, '--format', 'svg'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith('<svg ')).toBe(true);
    const svg = parseXml(r.stdout);
    expect(svg.children[0]).toMatchObject({ name: 'title', text: 'hello' });
    expect(allElements(svg).filter((e) => e.name === 'style')).toHaveLength(1);
    const steps = allElements(svg).flatMap((e) => e.attrs['data-step'] ?? []);
    expect(steps).toEqual(['clean', 'stats', 'route', 'summarize', 'shout', 'reply', 'bad-request']);
    expect(r.stdout).toBe(Graph.fromFile(hello).toSvg({ embedStyles: true }));
  });
});
