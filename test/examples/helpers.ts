// Helpers of the examples tests: run an example or the CLI as a user would, from the build (dist/).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist/cli/main.js');
export const example = (path: string): string => join(ROOT, 'examples', path);

const execFileAsync = promisify(execFile);

/** The environment a newcomer has: no store override (the vitest config sets one), no OpenAI variables. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['SERVEGRAPH_STORE', 'SERVEGRAPH_AUTH_TOKEN', 'OPENAI_BASE_URL', 'OPENAI_API_KEY', 'OPENAI_MODEL'])
    delete env[name];
  return { ...env, ...extra };
}

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error('dist/ is missing: run `npm run build` first');
}

/** `node <args>` to its end: exit code, stdout and stderr. */
export async function runNode(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, args, {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? userEnv(),
      timeout: options.timeoutMs ?? 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A `servegraph serve` child process, once it printed its serving line. */
export type ServedChild = {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
  /** SIGTERM, then the exit code (SIGKILL after `graceMs`) */
  stop: (graceMs?: number) => Promise<number | null>;
};

/** Start `servegraph serve <args>` and resolve once stdout holds the serving line and `readyWhen` holds. */
export function startServe(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; readyWhen?: (stdout: string) => boolean; timeoutMs?: number },
): Promise<ServedChild> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    cwd: options.cwd,
    env: options.env ?? userEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async (graceMs = 10_000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exit;
    clearTimeout(timer);
    return code;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop(0);
      reject(new Error(`servegraph serve did not start in time:\n${out}\n${err}`));
    }, options.timeoutMs ?? 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^servegraph: serving graph '[^']*' at (http:\/\/\S+)$/m.exec(out);
      if (m && (options.readyWhen?.(out) ?? true)) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, stdout: () => out, stderr: () => err, exit, stop });
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`servegraph serve exited ${code}:\n${out}\n${err}`));
    });
  });
}

/** The events of an SSE body. */
export function sseEvents(text: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  parser.feed(text);
  return events;
}

/** A curl command line of the docs, as a request: its URL, headers and `-d` body. */
export type CurlRequest = { url: string; headers: Record<string, string>; body: string | undefined };

/** Parse `curl [-s] [-N] <url> -H 'name: value'… -d '<body>'` (the quoting the docs use: '…' only). */
export function parseCurl(line: string): CurlRequest {
  const words = [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  if (words[0] !== 'curl') throw new Error(`not a curl command: ${line}`);
  const req: CurlRequest = { url: '', headers: {}, body: undefined };
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-H') {
      const [name, ...value] = words[++i]!.split(':');
      req.headers[name!.trim().toLowerCase()] = value.join(':').trim();
    } else if (w === '-d') req.body = words[++i];
    else if (!w.startsWith('-')) req.url = w.startsWith('http') ? w : `http://${w}`;
  }
  return req;
}
