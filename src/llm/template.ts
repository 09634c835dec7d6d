/** A message's content split into literal text and `{placeholder}`s (llm.md section 2.2, "syntax"). */
export type TemplatePart = string | { readonly name: string };

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*/;

/**
 * Split `text`: `{name}` is a placeholder, `{{` and `}}` are literal braces, and any other brace text
 * (JSON, `{ x }`, `{1}`) stays as written, so prompts may hold JSON examples.
 */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let lit = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if ((c === '{' || c === '}') && text[i + 1] === c) {
      lit += c;
      i += 2;
      continue;
    }
    if (c === '{') {
      const m = NAME_RE.exec(text.slice(i + 1, i + 130));
      if (m !== null && text[i + 1 + m[0].length] === '}') {
        if (lit) parts.push(lit);
        lit = '';
        parts.push({ name: m[0] });
        i += m[0].length + 2;
        continue;
      }
    }
    lit += c;
    i += 1;
  }
  if (lit || parts.length === 0) parts.push(lit);
  return parts;
}

/** The placeholder names of parsed parts, each once, in order of first use. */
export function placeholderNames(parts: readonly TemplatePart[]): string[] {
  const names: string[] = [];
  for (const p of parts) if (typeof p !== 'string' && !names.includes(p.name)) names.push(p.name);
  return names;
}

/** How a value enters the prompt: strings as they are, scalars with String(), objects as JSON. */
export function renderValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v) ?? String(v);
}
