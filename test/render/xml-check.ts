/** A small XML well-formedness check and element reader for the SVG tests (no XML parser is installed). */

export type Element = { name: string; attrs: Record<string, string>; text: string; children: Element[] };

const TAG = /^<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*"[^"<]*")*)\s*(\/?)>/;
const ATTR = /([A-Za-z_][\w:.-]*)\s*=\s*"([^"<]*)"/g;
const ENTITY = /^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/;

/**
 * Parse `xml` into its root element, throwing on anything not well-formed: unbalanced or crossed tags, a
 * second root, a raw `<` or `&` in text or attributes, an unknown entity, duplicate attributes.
 */
export function parseXml(xml: string): Element {
  const stack: Element[] = [];
  let root: Element | undefined;
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`not well-formed at ${i}: ${why}: ${JSON.stringify(xml.slice(i, i + 60))}`);
  };
  while (i < xml.length) {
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i);
      if (end < 0) fail('unclosed comment');
      i = end + 3;
      continue;
    }
    if (xml[i] === '<') {
      const m = TAG.exec(xml.slice(i)) ?? fail('bad tag');
      const [whole, closing, name, attrText, selfClosing] = m;
      if (closing) {
        if (attrText || selfClosing) fail('bad closing tag');
        const open = stack.pop() ?? fail(`</${name}> without an open tag`);
        if (open.name !== name) fail(`</${name}> closes <${open.name}>`);
      } else {
        if (stack.length === 0 && root !== undefined) fail('a second root element');
        const el: Element = { name: name!, attrs: {}, text: '', children: [] };
        for (const [, key, value] of attrText!.matchAll(ATTR)) {
          if (key! in el.attrs) fail(`duplicate attribute ${key}`);
          el.attrs[key!] = decode(value!, fail);
        }
        if (stack.length > 0) stack.at(-1)!.children.push(el);
        else root = el;
        if (!selfClosing) stack.push(el);
      }
      i += whole.length;
      continue;
    }
    const next = xml.indexOf('<', i);
    const text = xml.slice(i, next < 0 ? xml.length : next);
    if (stack.length === 0 && text.trim() !== '') fail('text outside the root');
    if (stack.length > 0) stack.at(-1)!.text += decode(text, fail);
    i += text.length;
  }
  if (stack.length > 0) fail(`<${stack.at(-1)!.name}> is not closed`);
  return root ?? fail('no root element');
}

function decode(text: string, fail: (why: string) => never): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '&') {
      out += text[i];
      continue;
    }
    const m = ENTITY.exec(text.slice(i)) ?? fail('a raw & or an unknown entity');
    const e = m[1]!;
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    out += named[e] ?? String.fromCodePoint(e.startsWith('#x') ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
    i += m[0].length - 1;
  }
  return out;
}

/** Every element of the tree, depth first. */
export function allElements(el: Element): Element[] {
  return [el, ...el.children.flatMap(allElements)];
}

/** The classes of an element. */
export function classesOf(el: Element): string[] {
  return (el.attrs.class ?? '').split(/\s+/).filter((c) => c !== '');
}

/** Every element having class `cls`. */
export function byClass(root: Element, cls: string): Element[] {
  return allElements(root).filter((e) => classesOf(e).includes(cls));
}
