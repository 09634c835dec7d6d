// Keeps docs/ complete: every name the package exports (values and types, from 'servegraph' and
// 'servegraph/testing') is named in code font in a guide. concepts.md only indexes the API, and architecture.md
// is for contributors, so neither counts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = join(ROOT, 'docs');
const ENTRY_POINTS = ['src/index.ts', 'src/testing/index.ts'];

/** The names an entry point re-exports: `export { a, type B } from …` and `export type { C } from …`. */
function exportedNames(file: string): string[] {
  const source = readFileSync(join(ROOT, file), 'utf8');
  const names: string[] = [];
  for (const m of source.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of m[1].split(',')) {
      const name = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .at(-1);
      if (name) names.push(name);
    }
  }
  return names;
}

/** Every code span and fenced block of the guides, joined. */
const codeText = readdirSync(DOCS)
  .filter((f) => f.endsWith('.md') && f !== 'architecture.md' && f !== 'concepts.md')
  .map((f) => readFileSync(join(DOCS, f), 'utf8'))
  .flatMap((text) => [...text.matchAll(/```[\s\S]*?```|`[^`\n]+`/g)].map((m) => m[0]))
  .join('\n');

describe('docs cover the public API', () => {
  for (const file of ENTRY_POINTS) {
    const names = exportedNames(file);

    test(`${file} exports names`, () => {
      expect(names.length).toBeGreaterThan(0);
    });

    test.each(names)(`${file}: %s is documented`, (name) => {
      expect(new RegExp(`\\b${name}\\b`).test(codeText), `${name} is named in no page of docs/`).toBe(true);
    });
  }
});
