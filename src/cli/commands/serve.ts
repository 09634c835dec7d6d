import type { Command } from 'commander';
import { bannerOf, loadGraphFile } from '../load-graph.js';
import { errorLine, exitCodeOf } from '../output.js';
import { progressDisplay } from '../progress.js';
import { type ServeFlags, serveOptionsOf } from './serve-flags.js';

/** `servegraph serve <graph>`: serve a graph over HTTP in the foreground until SIGTERM/SIGINT. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'serve a graph over HTTP (JSON and streamed replies, an OpenAI-compatible front) until SIGTERM or SIGINT',
    )
    .argument('<graph>', 'a spec file (.yaml, .yml, .json) or a module whose default export is a Graph')
    .option('--port <port>', 'port to listen on (default: $PORT, else 8080; 0 picks a free port)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--body-limit <bytes>', 'largest request body in bytes (default 1048576)')
    .option(
      '--stream-format <format>',
      'sse, ndjson or json: a streamed reply when Accept does not choose (default sse)',
    )
    .option(
      '--request-timeout-ms <ms>',
      "time allowed for the reply, or a stream's first chunk (default 120000; 0: none)",
    )
    .option('--heartbeat-ms <ms>', 'silence on an open stream before a keep-alive line (default 15000; 0: never)')
    .option('--grace-ms <ms>', 'how long shutdown lets requests in flight finish (default 10000)')
    .option('--max-concurrency <n>', 'graph requests in flight at once; one more is 429 (default 1024; 0: no limit)')
    .option('--cors', 'CORS headers and preflight for any origin')
    .option('--no-openai', 'do not mount the OpenAI-compatible front (/v1/chat/completions, /v1/models)')
    .option('-q, --quiet', 'no access log')
    .addHelpText(
      'after',
      '\nWith SERVEGRAPH_AUTH_TOKEN set, every route but /healthz and /readyz needs Authorization: Bearer <token>.' +
        '\nA graph module may also export banner({ url }), a function whose text is printed under the serving line.',
    )
    .action(async (file: string, flags: ServeFlags) => {
      const progress = progressDisplay();
      try {
        const options = serveOptionsOf(flags, process.env);
        const graph = await loadGraphFile(file);
        // fastify loads only for this command: `test` and `graph` start faster without it
        const { serve } = await import('../../server/http/serve.js');
        const app = await serve(graph, { ...options, onProgress: progress.onProgress });
        progress.end();
        process.stdout.write(`servegraph: serving graph '${graph.name}' at ${app.url}\n`);
        const banner = await bannerOf(file, app.url);
        if (banner.text) process.stdout.write(`${banner.text.replace(/\n*$/, '')}\n`);
        if (banner.warning) process.stderr.write(`servegraph: warning: ${banner.warning}\n`);
      } catch (err) {
        progress.end();
        process.stderr.write(`${errorLine(err)}\n`);
        process.exitCode = exitCodeOf(err);
      }
    });
}
