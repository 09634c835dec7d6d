import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = `${root}dist/cli/main.js`;
const hello = `${root}examples/hello/graph.yaml`;
const fixture = (name: string) => `${root}test/fixtures/cli/${name}`;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('servegraph test', () => {
  test('prints the reply as JSON on one line', () => {
    const r = cli('test', hello, '--body', '{"text":" hi there "}');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"text":"HI THERE","stats":{"words":2,"chars":8,"longest":"there"}}\n');
  });

  test('a graph module whose default export is a Graph', () => {
    const r = cli('test', fixture('graph-module.mjs'), '--body', '[1,2]', '--path', '/x', '-H', 'X-Who: me');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ echoed: [1, 2] });
  });

  test('a failed request prints the error body on stderr and exits 1', () => {
    const r = cli('test', fixture('fails.yaml'), '--body', '{}');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toEqual({
      error: { code: 'SG_ERR_BAD_REQUEST', message: 'no good', step: 'boom', endpoint: null },
    });
  });

  test('usage, validation and start-up errors exit 2 with one line naming the code', () => {
    const cases: Array<[string[], string]> = [
      [['test', hello, '--body', '{bad'], 'SG_ERR_BAD_JSON'],
      [['test', fixture('missing.yaml')], 'SG_ERR_INVALID_SPEC'],
      [['test', fixture('not-a-graph.mjs')], 'SG_ERR_INVALID_CLASS'],
      [['test', fixture('bad-ref.yaml'), '--body', '1'], 'SG_ERR_MODULE_LOAD'],
      [['test', hello, '--header', 'no-colon'], 'SG_ERR_INVALID_OPTION'],
    ];
    for (const [args, code] of cases) {
      const r = cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`servegraph: ${code}: `);
    }
  });

  test('unknown commands and options are usage errors (exit 2)', () => {
    expect(cli('nope').code).toBe(2);
    expect(cli('test', hello, '--nope').code).toBe(2);
    expect(cli('test').code).toBe(2);
  });

  test('--help and --version exit 0', () => {
    for (const args of [['--help'], ['test', '--help'], ['graph', '--help'], ['serve', '--help'], ['--version']]) {
      const r = cli(...args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
    }
  });
});

describe('servegraph graph', () => {
  test('prints Mermaid by default and the spec as JSON', () => {
    const m = cli('graph', hello);
    expect(m.code).toBe(0);
    expect(m.stdout.startsWith('flowchart LR')).toBe(true);
    const j = cli('graph', hello, '--format', 'json');
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ kind: 'flow', name: 'hello', steps: { clean: { class: 'MapStep' } } });
  });

  test('an unknown format exits 2', () => {
    const r = cli('graph', hello, '--format', 'png');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SG_ERR_INVALID_OPTION');
  });
});

describe('servegraph serve', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
  });

  test('serves over HTTP, prints its URL, and exits 0 on SIGTERM', async () => {
    child = spawn(process.execPath, [bin, 'serve', hello, '--port', '0', '--quiet'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = child;
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = out.match(/at (http:\/\/\S+)/);
        if (m) resolve(m[1]);
      });
      proc.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const res = await fetch(`${url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"text":"a b"}',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ text: 'A B', stats: { words: 2, chars: 3, longest: 'a' } });
    const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    expect(await exit).toBe(0);
  });

  test('PORT is used when --port is not given, and a bad port exits 2', () => {
    const r = spawnSync(process.execPath, [bin, 'serve', hello], {
      encoding: 'utf8',
      env: { ...process.env, PORT: 'abc' },
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('SG_ERR_INVALID_OPTION');
  });
});
