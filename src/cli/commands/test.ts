import type { Command } from 'commander';
import { SgError } from '../../errors/index.js';
import { createMockServer } from '../../server/mock-server.js';
import { loadGraphFile } from '../load-graph.js';
import { EXIT, errorBody, errorLine, exitCodeOf } from '../output.js';

type TestFlags = { body?: string; path: string; method?: string; header: string[]; id?: string };

/** `servegraph test <graph> --body '<json>'`: run one request through the mock server and print the reply. */
export function registerTest(program: Command): void {
  program
    .command('test')
    .description('run one request through the graph in a mock server and print the reply as JSON')
    .argument('<graph>', 'a spec file (.yaml, .yml, .json) or a module whose default export is a Graph')
    .option('-b, --body <json>', 'the request body, as JSON')
    .option('-p, --path <path>', 'the request path', '/')
    .option('-m, --method <method>', 'the HTTP method (default: POST with a body, else GET)')
    .option('-H, --header <name:value>', 'a request header (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option('--id <id>', 'the event id')
    .action(async (file: string, flags: TestFlags) => {
      process.exitCode = await runTest(file, flags);
    });
}

async function runTest(file: string, flags: TestFlags): Promise<number> {
  let body: unknown;
  if (flags.body !== undefined) {
    try {
      body = JSON.parse(flags.body);
    } catch (err) {
      process.stderr.write(
        `${errorLine(new SgError('SG_ERR_BAD_JSON', `--body is not valid JSON: ${(err as Error).message}`))}\n`,
      );
      return EXIT.usage;
    }
  }
  const headers: Record<string, string> = {};
  for (const h of flags.header) {
    const at = h.indexOf(':');
    if (at <= 0) {
      process.stderr.write(
        `${errorLine(new SgError('SG_ERR_INVALID_OPTION', `--header must be 'name:value', got '${h}'`))}\n`,
      );
      return EXIT.usage;
    }
    headers[h.slice(0, at).trim()] = h.slice(at + 1).trim();
  }
  let server: ReturnType<typeof createMockServer>;
  try {
    server = createMockServer(await loadGraphFile(file), { logLevel: 'error' });
    await server.ready();
  } catch (err) {
    process.stderr.write(`${errorLine(err)}\n`);
    return exitCodeOf(err);
  }
  try {
    const reply = await server.test(flags.path, body, { method: flags.method, headers, id: flags.id });
    if (reply !== undefined)
      process.stdout.write(
        `${JSON.stringify(reply instanceof Uint8Array ? Buffer.from(reply).toString('base64') : reply)}\n`,
      );
    return EXIT.ok;
  } catch (err) {
    process.stderr.write(`${errorBody(err)}\n`);
    return err instanceof SgError && err.code === 'SG_ERR_INVALID_OPTION' ? EXIT.usage : EXIT.runtime;
  } finally {
    await server.close({ graceMs: 1000 });
  }
}
