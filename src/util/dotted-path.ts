/** The value at a dotted path (`a.b.c`), through own properties only; undefined when missing or not an object. */
export function valueAtPath(root: unknown, path: string): unknown {
  let v = root;
  for (const seg of path.split('.')) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, seg)) return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}
