// Keeps docs/ honest: every example runs, every output a page shows is what the example prints, every
// example embedded in a page is the file's exact text, links resolve, and the error table is current.
// Runs against the build (dist/), like a user's `node examples/docs/x.mjs`.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = join(ROOT, 'docs');
const EXAMPLES = join(ROOT, 'examples/docs');
const CLI = join(ROOT, 'dist/cli/main.js');

type Page = { name: string; text: string };
const pages: Page[] = readdirSync(DOCS)
  .filter((f) => f.endsWith('.md'))
  .sort()
  .map((name) => ({ name, text: readFileSync(join(DOCS, name), 'utf8').replace(/\r\n/g, '\n') }));

/** The text of a fenced block: the lines between its opening and closing fence. */
function fenced(block: string): string | undefined {
  const m = /^\s*```[\w-]*\n([\s\S]*?)\n?```\s*$/.exec(block);
  return m?.[1];
}

function blocks(kind: 'example' | 'output'): Array<{ page: string; file: string; body: string | undefined }> {
  const re = new RegExp(`<!-- ${kind}: (\\S+) -->\\n([\\s\\S]*?)<!-- /${kind} -->`, 'g');
  return pages.flatMap((p) => [...p.text.matchAll(re)].map((m) => ({ page: p.name, file: m[1], body: fenced(m[2]) })));
}

type Command = { page: string; line: string; exit: number; expected: string };
function commands(): Command[] {
  const re = /<!-- command(?: exit=(\d+))? -->\n([\s\S]*?)<!-- \/command -->/g;
  return pages.flatMap((p) =>
    [...p.text.matchAll(re)].map((m) => {
      const [first, ...rest] = (fenced(m[2]) ?? '').split('\n');
      return { page: p.name, line: first.replace(/^\$ /, ''), exit: Number(m[1] ?? 0), expected: rest.join('\n') };
    }),
  );
}

/** Split a command line as a POSIX shell would, for the quoting the docs use ('…' and "…"). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|"((?:\\.|[^"\\])*)"|(\S+)/g;
  for (const m of line.matchAll(re)) words.push(m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[3]);
  return words;
}

const exampleFiles = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.mjs'))
  .sort();
const outputs = blocks('output');
const embedded = blocks('example');

/** Names an example imports from 'servegraph'. */
function importedNames(source: string): string[] {
  const names: string[] = [];
  for (const m of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'servegraph'/g)) {
    for (const part of m[1].split(',')) {
      const name = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)[0];
      if (name && !part.trim().startsWith('type ')) names.push(name);
    }
  }
  return names;
}

let exported: Set<string>;
beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  exported = new Set(Object.keys(await import(pathToFileURL(join(ROOT, 'dist/index.js')).href)));
});

describe('examples/docs', () => {
  test('there are examples, and every one is shown in a page', () => {
    expect(exampleFiles.length).toBeGreaterThan(0);
    const shown = new Set(embedded.map((b) => b.file));
    for (const f of exampleFiles)
      expect(shown, `examples/docs/${f} is embedded in no page`).toContain(`examples/docs/${f}`);
  });

  // Examples run side by side: each is its own process, and none depends on timing beyond its own timers.
  test.concurrent.for(exampleFiles)('%s runs, exits 0 and prints what the docs say', async (file, { expect, skip }) => {
    const path = join(EXAMPLES, file);
    // An example of a feature still being built runs once the package exports what it imports.
    const missing = importedNames(readFileSync(path, 'utf8')).filter((n) => !exported.has(n));
    if (missing.length > 0) skip(`servegraph does not export ${missing.join(', ')} yet`);
    const { stdout } = await run(process.execPath, [path], { cwd: ROOT, timeout: 15_000 });
    const out = stdout.replace(/\r\n/g, '\n');
    for (const o of outputs.filter((b) => b.file === `examples/docs/${file}`)) {
      expect(o.body, `${o.page}: output block of ${file} has no fenced text`).toBeDefined();
      expect(out, `${o.page}: the output shown for ${file}`).toContain(o.body);
    }
  });
});

describe('docs pages', () => {
  test.each(embedded.map((b) => [b.page, b.file, b.body] as const))('%s embeds %s verbatim', (page, file, body) => {
    const path = resolve(ROOT, file);
    expect(existsSync(path), `${page}: ${file} does not exist`).toBe(true);
    expect(body, `${page}: the block of ${file} differs from the file`).toBe(
      readFileSync(path, 'utf8').replace(/\r\n/g, '\n').replace(/\n+$/, ''),
    );
  });

  test('every output block belongs to an example file', () => {
    for (const o of outputs) expect(existsSync(resolve(ROOT, o.file)), `${o.page}: ${o.file}`).toBe(true);
  });

  test('relative links point to existing files and headings', () => {
    const slugs = new Map(
      pages.map((p) => [
        p.name,
        new Set(
          [...p.text.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
            m[1]
              .toLowerCase()
              .replace(/[^\p{L}\p{N} _-]/gu, '')
              .replace(/ /g, '-'),
          ),
        ),
      ]),
    );
    for (const p of pages) {
      for (const m of p.text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const [target, anchor] = m[1].split('#');
        if (/^[a-z]+:/.test(target)) continue;
        const file = target === '' ? p.name : target;
        expect(existsSync(resolve(DOCS, file)), `${p.name}: link to ${m[1]}`).toBe(true);
        if (anchor !== undefined && file.endsWith('.md')) {
          expect(slugs.get(file)?.has(anchor), `${p.name}: link to ${m[1]}: no such heading`).toBe(true);
        }
      }
    }
  });

  test.concurrent.for(commands().map((c) => [c.page, c.line, c] as const))('%s: `%s`', async ([, , c], { expect }) => {
    const words = shellWords(c.line);
    const start = words[0] === 'npx' ? 1 : 0;
    expect(words[start], 'commands in the docs run servegraph').toBe('servegraph');
    let stdout = '';
    let stderr = '';
    let code = 0;
    try {
      ({ stdout, stderr } = await run(process.execPath, [CLI, ...words.slice(start + 1)], {
        cwd: ROOT,
        timeout: 15_000,
      }));
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      code = typeof e.code === 'number' ? e.code : -1;
      stdout = e.stdout ?? '';
      stderr = e.stderr ?? '';
    }
    expect(code, stderr).toBe(c.exit);
    expect(c.exit === 0 ? stdout : stdout + stderr).toContain(c.expected);
  });

  test('docs/errors.md lists every error code (scripts/gen-error-docs.mjs --check)', async () => {
    const { stdout } = await run(process.execPath, [join(ROOT, 'scripts/gen-error-docs.mjs'), '--check'], {
      cwd: ROOT,
    });
    expect(stdout).toContain('up to date');
  });
});
