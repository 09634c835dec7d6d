// `servegraph serve <graph>` as a child process (README.md, "Command line"; http.md, `serve`: the options as
// flags, the token from SERVEGRAPH_AUTH_TOKEN, progress from onProgress). Runs dist/: `npm run build` first.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { postJson, send, until } from '../integration/http-helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = `${root}dist/cli/main.js`;
const fixture = (name: string) => `${root}test/fixtures/cli/${name}`;
const SERVE_GRAPH = fixture('serve-graph.mjs');
const STREAM_GRAPH = fixture('stream-graph.mjs');
const POOL_GRAPH = fixture('pool-graph.mjs');

/** A running `servegraph serve`: its URL, its output so far, and its exit. */
type Served = {
  child: ChildProcess;
  url: string;
  /** the stdout line that announced it */
  line: string;
  stderr: () => string;
  /** the `entered <id>` lines the fixture graph wrote */
  entered: () => number;
  exit: Promise<number | null>;
};

const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Start `servegraph serve <args>` and wait for its serving line on stdout. */
function startServe(args: string[], env: Record<string, string> = {}, detached = false): Promise<Served> {
  const child = spawn(process.execPath, [bin, 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached, // a process group of its own, to be signalled as a whole
    env: { ...process.env, SERVEGRAPH_AUTH_TOKEN: '', ...env },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^servegraph: serving graph '[^']*' at (http:\/\/\S+)$/m.exec(out);
      if (m) {
        resolve({
          child,
          url: m[1]!,
          line: m[0],
          stderr: () => err,
          entered: () => err.split('\n').filter((l) => l.startsWith('entered ')).length,
          exit,
        });
      }
    });
    void exit.then((code) => reject(new Error(`servegraph serve exited ${code}: ${out}${err}`)));
  });
}

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, SERVEGRAPH_AUTH_TOKEN: '', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const errorCode = (body: unknown) => (body as { error: { code: string } }).error.code;

describe('graceful shutdown', () => {
  test('SIGTERM with 3 requests in flight: all 3 complete with 200, then the process exits 0', async () => {
    const s = await startServe([SERVE_GRAPH, '--port', '0', '--quiet']);
    expect(s.line).toBe(`servegraph: serving graph 'serve-fixture' at ${s.url}`);
    const requests = [1, 2, 3].map((n) =>
      send(s.url, {
        method: 'POST',
        path: '/?ms=500',
        headers: { 'content-type': 'application/json', 'x-request-id': `r${n}` },
        body: JSON.stringify({ n }),
      }),
    );
    await until(() => s.entered() === 3, 10);
    s.child.kill('SIGTERM');
    const answers = await Promise.all(requests);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map((a) => (a.json() as { body: { n: number } }).body.n)).toEqual([1, 2, 3]);
    expect(await s.exit).toBe(0);
  });

  test('SIGTERM to the whole process group (Ctrl+C, systemd): a process_pool call in flight still completes', async () => {
    const s = await startServe([POOL_GRAPH, '--port', '0', '--quiet'], {}, true);
    const pid = s.child.pid!;
    const call = postJson(s.url, { ms: 1500 });
    const inFlight = async () => {
      const text = (await send(s.url, { path: '/metrics' })).text;
      return /servegraph_model_in_flight\{[^}]*endpoint="slow"[^}]*\} 1$/m.test(text);
    };
    for (let i = 0; !(await inFlight()); i++) {
      if (i > 200) throw new Error('the call never reached the pool');
      await new Promise((r) => setTimeout(r, 25));
    }
    process.kill(-pid, 'SIGTERM'); // the server and its pool's child processes alike
    const res = await call;
    expect(res.status).toBe(200);
    expect((res.json() as { pid: number }).pid).not.toBe(pid);
    expect(await s.exit).toBe(0);
  });

  test('--grace-ms: a request still in flight when it ends gets 503 SG_ERR_SERVER_CLOSED; the exit is 0', async () => {
    const s = await startServe([SERVE_GRAPH, '--port', '0', '--quiet', '--grace-ms', '100']);
    const slow = postJson(`${s.url}`, { n: 1 }, '/?ms=2000');
    await until(() => s.entered() === 1, 10);
    s.child.kill('SIGTERM');
    const res = await slow;
    expect(res.status).toBe(503);
    expect(errorCode(res.json())).toBe('SG_ERR_SERVER_CLOSED');
    expect(await s.exit).toBe(0);
  });
});

describe('flags', () => {
  test('--max-concurrency 1 --body-limit 10 --no-openai --cors take effect', async () => {
    const s = await startServe([
      SERVE_GRAPH,
      '--port',
      '0',
      '--quiet',
      '--max-concurrency',
      '1',
      '--body-limit',
      '10',
      '--no-openai',
      '--cors',
    ]);
    // --body-limit 10: 20 bytes is 413
    const big = await postJson(s.url, '0123456789abcdef');
    expect(big.status).toBe(413);
    expect(errorCode(big.json())).toBe('SG_ERR_BODY_TOO_LARGE');
    expect((await postJson(s.url, [1, 2])).status).toBe(200);
    // --no-openai: the front's paths go to the graph
    const models = await send(s.url, { path: '/v1/models' });
    expect(models.status).toBe(200);
    expect(models.json()).toEqual({ path: '/v1/models', method: 'GET', body: null });
    // --cors: preflight answered 204 with the headers of cors: true
    const pre = await send(s.url, {
      method: 'OPTIONS',
      path: '/x',
      headers: { origin: 'http://a.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    // --max-concurrency 1: with one request in flight, the next is 429
    const entered = s.entered();
    const held = postJson(s.url, 1, '/?ms=800');
    await until(() => s.entered() === entered + 1, 10);
    const full = await postJson(s.url, 2);
    expect(full.status).toBe(429);
    expect(errorCode(full.json())).toBe('SG_ERR_OVERLOADED');
    expect((await held).status).toBe(200);
    expect((await postJson(s.url, 3)).status).toBe(200);
  });

  test('without --no-openai and --cors: the front answers /v1/models and OPTIONS goes to the graph', async () => {
    const s = await startServe([SERVE_GRAPH, '--port', '0', '--quiet']);
    const models = await send(s.url, { path: '/v1/models' });
    expect((models.json() as { object: string }).object).toBe('list');
    const opt = await send(s.url, { method: 'OPTIONS', path: '/x', headers: { origin: 'http://a.example' } });
    expect(opt.json()).toEqual({ path: '/x', method: 'OPTIONS', body: null });
    expect(opt.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('--stream-format ndjson: a stream without Accept is NDJSON; --heartbeat-ms sends keep-alive lines', async () => {
    const s = await startServe([STREAM_GRAPH, '--port', '0', '--quiet', '--stream-format', 'ndjson']);
    const res = await postJson(s.url, {});
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const lines = res.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.event)).toEqual(['chunk', 'chunk', 'done']);
    expect(lines.slice(0, 2).map((l) => l.data)).toEqual(['a', 'b']);

    const beat = await startServe([STREAM_GRAPH, '--port', '0', '--quiet', '--heartbeat-ms', '100']);
    const sse = await send(beat.url, {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: '{"wait":600}',
    });
    expect(sse.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(sse.text.indexOf(': ping')).toBeGreaterThanOrEqual(0);
    expect(sse.text.indexOf(': ping')).toBeLessThan(sse.text.indexOf('event: chunk'));
  });

  test('--request-timeout-ms: a reply not ready in time is 504 SG_ERR_TIMEOUT', async () => {
    const s = await startServe([SERVE_GRAPH, '--port', '0', '--quiet', '--request-timeout-ms', '200']);
    const res = await postJson(s.url, 1, '/?ms=3000');
    expect(res.status).toBe(504);
    expect(errorCode(res.json())).toBe('SG_ERR_TIMEOUT');
  });

  test.each<[string[]]>([
    [['--body-limit', 'x']],
    [['--body-limit', '0']],
    [['--stream-format', 'xml']],
    [['--max-concurrency', '1.5']],
    [['--request-timeout-ms', 'soon']],
    [['--heartbeat-ms', '1e3']],
    [['--grace-ms', '']],
    [['--port', '70000']],
  ])('%j: exit 2 with one stderr line naming SG_ERR_INVALID_OPTION', (flags) => {
    const r = cli(['serve', SERVE_GRAPH, '--port', '0', '--quiet', ...flags]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^servegraph: SG_ERR_INVALID_OPTION: /);
    expect(lines[0]).toContain(flags[0]!);
  });

  test('serve --help lists the flags and the token variable', () => {
    const r = cli(['serve', '--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--host',
      '--port',
      '--body-limit',
      '--stream-format',
      '--request-timeout-ms',
      '--heartbeat-ms',
      '--grace-ms',
      '--max-concurrency',
      '--cors',
      '--no-openai',
    ]) {
      expect(r.stdout, flag).toContain(flag);
    }
    expect(r.stdout).toContain('SERVEGRAPH_AUTH_TOKEN');
  });
});

describe('the token and progress', () => {
  test('SERVEGRAPH_AUTH_TOKEN: requests without the Bearer header are 401; health is open', async () => {
    const s = await startServe([SERVE_GRAPH, '--port', '0', '--quiet'], { SERVEGRAPH_AUTH_TOKEN: 'env-token' });
    const none = await postJson(s.url, 1);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(errorCode(none.json())).toBe('SG_ERR_UNAUTHORIZED');
    expect(s.entered()).toBe(0);
    const ok = await send(s.url, {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/json', authorization: 'Bearer env-token' },
      body: '1',
    });
    expect(ok.status).toBe(200);
    expect((await send(s.url, { path: '/healthz' })).status).toBe(200);
    // the token never shows in the output
    expect(s.stderr()).not.toContain('env-token');
  });

  test('an empty SERVEGRAPH_AUTH_TOKEN means no token', async () => {
    const s = await startServe([SERVE_GRAPH, '--port', '0', '--quiet'], { SERVEGRAPH_AUTH_TOKEN: '' });
    expect((await postJson(s.url, 1)).status).toBe(200);
  });

  test('progress: one stderr line per loaded model, "servegraph: loaded <endpoint> (n/N)", before the serving line', async () => {
    const s = await startServe([fixture('models-graph.mjs'), '--port', '0', '--quiet']);
    expect(s.line).toMatch(/^servegraph: serving graph 'two-models' at /);
    const lines = s
      .stderr()
      .split('\n')
      .filter((l) => l !== '');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^servegraph: loaded (first|second) \(1\/2\)$/);
    expect(lines[1]).toMatch(/^servegraph: loaded (first|second) \(2\/2\)$/);
    expect(lines.map((l) => l.split(' ')[2]).sort()).toEqual(['first', 'second']);
    const res = await postJson(s.url, { q: 1 });
    expect(res.json()).toEqual({ first: { q: 1 }, second: { q: 1 } });
  });

  test('a graph without models prints no progress line', async () => {
    const s = await startServe([SERVE_GRAPH, '--port', '0', '--quiet']);
    expect(s.stderr()).toBe('');
  });
});
