import type { Command } from 'commander';
import { SgError } from '../../errors/index.js';
import { loadGraphFile } from '../load-graph.js';
import { EXIT, errorLine, exitCodeOf } from '../output.js';

const FORMATS = ['mermaid', 'svg', 'json'] as const;

/** `servegraph graph <graph> --format mermaid|svg|json`: print a drawing or the spec form of a graph. */
export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description('print a graph as Mermaid text, a standalone SVG or its JSON spec')
    .argument('<graph>', 'a spec file (.yaml, .yml, .json) or a module whose default export is a Graph')
    .option('-f, --format <format>', `output format: ${FORMATS.join(', ')}`, 'mermaid')
    .action(async (file: string, flags: { format: string }) => {
      try {
        if (!(FORMATS as readonly string[]).includes(flags.format)) {
          throw new SgError(
            'SG_ERR_INVALID_OPTION',
            `--format must be one of ${FORMATS.join(', ')}, got '${flags.format}'`,
          );
        }
        const graph = await loadGraphFile(file);
        graph.validate();
        const text =
          flags.format === 'json'
            ? `${JSON.stringify(graph.toSpec(), null, 2)}\n`
            : flags.format === 'svg'
              ? graph.toSvg({ embedStyles: true })
              : graph.toMermaid();
        process.stdout.write(text);
        process.exitCode = EXIT.ok;
      } catch (err) {
        process.stderr.write(`${errorLine(err)}\n`);
        process.exitCode = exitCodeOf(err);
      }
    });
}
