import type { Command } from 'commander';
import { SgError } from '../../errors/index.js';
import { loadGraphFile } from '../load-graph.js';
import { errorLine, exitCodeOf } from '../output.js';

type ServeFlags = { port?: string; host: string; quiet?: boolean };

/** `servegraph serve <graph>`: serve a graph over HTTP in the foreground until SIGTERM/SIGINT. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a graph over HTTP (JSON replies) until SIGTERM or SIGINT')
    .argument('<graph>', 'a spec file (.yaml, .yml, .json) or a module whose default export is a Graph')
    .option('--port <port>', 'port to listen on (default: $PORT, else 8080; 0 picks a free port)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('-q, --quiet', 'no access log')
    .action(async (file: string, flags: ServeFlags) => {
      try {
        const portText = flags.port ?? process.env.PORT ?? '8080';
        const port = Number(portText);
        if (!/^\d+$/.test(portText) || port > 65535) {
          throw new SgError('SG_ERR_INVALID_OPTION', `--port must be an integer from 0 to 65535, got '${portText}'`, {
            details: { field: 'port' },
          });
        }
        const graph = await loadGraphFile(file);
        // fastify loads only for this command: `test` and `graph` start faster without it
        const { serve } = await import('../../server/http/serve.js');
        const app = await serve(graph, { port, host: flags.host, handleSignals: true, logger: !flags.quiet });
        process.stdout.write(`servegraph: serving graph '${graph.name}' at ${app.url}\n`);
      } catch (err) {
        process.stderr.write(`${errorLine(err)}\n`);
        process.exitCode = exitCodeOf(err);
      }
    });
}
