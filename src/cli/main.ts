#!/usr/bin/env node
import '../builtins.js';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerEndpoints } from './commands/endpoints.js';
import { registerGraph } from './commands/graph.js';
import { registerServe } from './commands/serve.js';
import { registerTest } from './commands/test.js';
import { EXIT } from './output.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('servegraph')
  .description('Serve ML and LLM models as flow graphs over HTTP')
  .version(pkg.version)
  .showHelpAfterError()
  .exitOverride((err) => {
    // commander's own usage errors (unknown option, missing argument) are exit code 2
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
  });

registerServe(program);
registerTest(program);
registerGraph(program);
registerEndpoints(program);

await program.parseAsync(process.argv);
