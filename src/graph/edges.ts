/** An edge between two steps, by name; `to` may name a step added later (handler `before`, spec files). */
export type Edge = { from: string; to: string };

/** Names after `name`, in edge order. */
export function downstream(edges: readonly Edge[], name: string): string[] {
  const out: string[] = [];
  for (const e of edges) if (e.from === name) out.push(e.to);
  return out;
}

/** Names before `name`. */
export function upstream(edges: readonly Edge[], name: string): string[] {
  const out: string[] = [];
  for (const e of edges) if (e.to === name) out.push(e.from);
  return out;
}

/** Whether `to` can be reached from `from` along the edges. */
export function reaches(edges: readonly Edge[], from: string, to: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n === to) return true;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const e of edges) if (e.from === n) stack.push(e.to);
  }
  return false;
}
