import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SVG_CSS } from '../../../render/svg-style.js';

/** A file the dashboard serves, held in memory once read. */
export type Asset = { body: Buffer; type: string; etag: string };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The package's `assets/dashboard/`: four levels above this file, from `src/` (tests) as from `dist/`. */
const OWN_DIR = new URL('../../../../assets/dashboard/', import.meta.url);

/** The compiled shared formatter; from the TypeScript sources (vitest) the one under dist/ (tests run after a build). */
function formatterFile(): string {
  const url = new URL('../../../cli/endpoint-format.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return fileURLToPath(url);
  return fileURLToPath(url.href.replace(/\/src\/cli\//, '/dist/cli/'));
}

type Source = { type: string; read: () => Promise<Buffer> };

function file(path: string, transform?: (text: string) => string): Source {
  return {
    type: TYPES[extname(path)] ?? 'application/octet-stream',
    read: async () => {
      const body = await readFile(path);
      return transform === undefined ? body : Buffer.from(transform(body.toString('utf8')));
    },
  };
}

/** The page (`index.html`), which is served at `/dashboard`, not as an asset. */
export const PAGE = 'index.html';

/**
 * The files under `/dashboard/assets/`, by name: the page's script and styles (`assets/dashboard/*.js|css`),
 * the graph's stylesheet (the renderer's, as the SVG carries none), the CLI's formatter compiled (the page
 * formats numbers with it) and uPlot from `node_modules`. A name not in the table is 404, so no path can
 * leave these files.
 */
function sources(): Map<string, Source> {
  const own = fileURLToPath(OWN_DIR);
  const table = new Map<string, Source>();
  for (const entry of readdirSync(own, { withFileTypes: true })) {
    if (entry.isFile() && TYPES[extname(entry.name)] !== undefined) table.set(entry.name, file(own + entry.name));
  }
  const uplot = createRequire(import.meta.url);
  table.set('uPlot.esm.js', file(uplot.resolve('uplot/dist/uPlot.esm.js')));
  table.set('uPlot.min.css', file(uplot.resolve('uplot/dist/uPlot.min.css')));
  // the map is not served: without this line a browser's developer tools ask for it
  table.set(
    'endpoint-format.js',
    file(formatterFile(), (t) => t.replace(/^\/\/# sourceMappingURL=.*$/m, '')),
  );
  table.set('graph.css', { type: TYPES['.css']!, read: async () => Buffer.from(SVG_CSS) });
  return table;
}

/** The dashboard's files, each read on first use and then kept (they are small and fixed for the process). */
export class DashboardAssets {
  private table: Map<string, Source> | undefined;
  private readonly loaded = new Map<string, Promise<Asset>>();

  /** The asset of that name, or undefined when there is none; rejects when its file cannot be read. */
  get(name: string): Promise<Asset> | undefined {
    this.table ??= sources();
    const source = this.table.get(name);
    if (source === undefined) return undefined;
    let asset = this.loaded.get(name);
    if (asset === undefined) {
      asset = source.read().then((body) => ({
        body,
        type: source.type,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      }));
      // a failed read is tried again next time (a file being replaced by an upgrade, say)
      asset.catch(() => this.loaded.delete(name));
      this.loaded.set(name, asset);
    }
    return asset;
  }
}
