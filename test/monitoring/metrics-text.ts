/** A tiny parser of the Prometheus text format, for the metrics tests. */

export type Sample = { name: string; labels: Record<string, string>; value: number };
export type Exposition = { types: Map<string, string>; samples: Sample[] };

const SAMPLE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL_RE = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function unescapeValue(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

export function parseMetrics(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      types.set(name, type);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE_RE.exec(line);
    if (m === null) throw new Error(`unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(LABEL_RE)) labels[k] = unescapeValue(v);
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { types, samples };
}

function matches(labels: Record<string, string>, want: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => labels[k] === v);
}

/** The samples of `name` whose labels include `want`. */
export function find(e: Exposition, name: string, want: Record<string, string> = {}): Sample[] {
  return e.samples.filter((s) => s.name === name && matches(s.labels, want));
}

/** The value of the one sample of `name` with exactly the labels `want`; undefined when absent. */
export function value(e: Exposition, name: string, want: Record<string, string> = {}): number | undefined {
  const keys = Object.keys(want).sort().join(',');
  const hits = find(e, name, want).filter((s) => Object.keys(s.labels).sort().join(',') === keys);
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(want)}`);
  return hits[0]?.value;
}

/** Count, sum and cumulative buckets (by `le`) of one histogram series. */
export function histogram(
  e: Exposition,
  name: string,
  want: Record<string, string>,
): { count: number | undefined; sum: number | undefined; buckets: Map<string, number> } {
  const buckets = new Map<string, number>();
  for (const s of find(e, `${name}_bucket`, want)) {
    if (Object.keys(s.labels).length === Object.keys(want).length + 1) buckets.set(s.labels.le, s.value);
  }
  return { count: value(e, `${name}_count`, want), sum: value(e, `${name}_sum`, want), buckets };
}

/** The label names of every sample of a metric (without `le`), sorted, each set once. */
export function labelSets(e: Exposition, name: string, type: string): string[] {
  const names = type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
  const sets = new Set<string>();
  for (const s of e.samples) {
    if (!names.includes(s.name)) continue;
    sets.add(
      Object.keys(s.labels)
        .filter((k) => k !== 'le')
        .sort()
        .join(','),
    );
  }
  return [...sets];
}

/** The `le` values of the first series of a histogram, in order of appearance. */
export function bucketBounds(e: Exposition, name: string): string[] {
  const first = find(e, `${name}_bucket`)[0];
  if (first === undefined) return [];
  const { le: _le, ...series } = first.labels;
  return find(e, `${name}_bucket`, series).map((s) => s.labels.le);
}
