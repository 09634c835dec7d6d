import { describe, SgError } from '../errors/index.js';
import type { Graph } from '../graph/graph.js';
import { type DrawnEdge, type DrawnStep, drawingOf } from './drawing.js';
import { type LayoutEdge, type LayoutNode, layered, type Placed, type Point } from './layout.js';
import { SVG_CSS } from './svg-style.js';

/** The health class of an endpoint node (monitoring.md section 10). */
export type EndpointHealth = 'sg-ok' | 'sg-warn' | 'sg-bad';

export type SvgOptions = {
  /** extra CSS classes of the step or endpoint with that name (a string of classes, or a list) */
  classes?: Record<string, string | readonly string[]>;
  /** the health class of each endpoint, by name; an endpoint given none is `sg-ok` */
  health?: Record<string, EndpointHealth>;
  /** add the stylesheet as one `<style>` element, for a standalone file (default false: no style at all) */
  embedStyles?: boolean;
  /** the same as `embedStyles` */
  standalone?: boolean;
};

const HEALTH: readonly string[] = ['sg-ok', 'sg-warn', 'sg-bad'];
const CHAR = 7; // estimated width of a character at 12px
const PAD = 12; // text inset from a node's left edge
const LINE = 16;
const ROW = 24; // an endpoint row: a 20px box and a 4px gap
const START = 'start';
const START_R = 22;

/**
 * A self-contained SVG drawing of `graph` (graph.md section 1), laid out left to right by `layered()`:
 * a start node, each step a `<g data-step>` with its name and kind (a runner's endpoints as `<g
 * data-endpoint>` rows with a health class), `after` edges (`sg-edge-stream` where a stream flows), dashed
 * `error` edges to handlers. Only classes give it a look: no `style` attribute, and a `<style>` element
 * only with `embedStyles` (or `standalone`).
 */
export function toSvg(graph: Graph, options: SvgOptions = {}): string {
  checkOptions(options);
  const drawing = drawingOf(graph);
  const ids = new Map<string, string>(drawing.steps.map((s, i) => [s.name, `s${i}`]));
  const nodes: LayoutNode[] = [{ id: START, width: START_R * 2, height: START_R * 2 }];
  for (const s of drawing.steps) nodes.push({ id: ids.get(s.name)!, ...stepSize(s) });
  const edges: Array<LayoutEdge & { cls: string; edge?: DrawnEdge }> = [
    ...drawing.starts.map((name) => ({ from: START, to: ids.get(name)!, cls: 'sg-edge sg-edge-start' })),
    ...drawing.edges.map((e) => ({
      from: ids.get(e.from)!,
      to: ids.get(e.to)!,
      secondary: e.type === 'error',
      cls: edgeClass(e),
      edge: e,
    })),
  ];
  const layout = layered(nodes, edges);
  const w = num(layout.width);
  const h = num(layout.height);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="sg-graph" role="img" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" data-graph="${esc(drawing.name)}">`,
    `  <title class="sg-title">${esc(drawing.name)}</title>`,
  ];
  if (options.embedStyles === true || options.standalone === true) {
    out.push(`  <style class="sg-style">\n${SVG_CSS}  </style>`);
  }
  out.push(
    '  <defs class="sg-defs">',
    '    <marker id="sg-arrow" class="sg-marker" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto">',
    '      <path class="sg-arrowhead" d="M0,0 L10,5 L0,10 z"/>',
    '    </marker>',
    '  </defs>',
    `  <rect class="sg-background" x="0" y="0" width="${w}" height="${h}"/>`,
    '  <g class="sg-edges">',
  );
  for (const route of layout.edges) {
    const { cls, edge } = edges[route.index]!;
    const ends = edge === undefined ? '' : ` data-from="${esc(edge.from)}" data-to="${esc(edge.to)}"`;
    out.push(`    <path class="${cls}"${ends} d="${pathOf(route.points)}" marker-end="url(#sg-arrow)"/>`);
    if (edge?.type === 'error') {
      const at = labelPoint(route.points);
      out.push(
        `    <rect class="sg-edge-label-box" x="${num(at.x - 19.5)}" y="${num(at.y - 7)}" width="39" height="14" rx="3"/>`,
        `    <text class="sg-edge-label" x="${num(at.x - 17.5)}" y="${num(at.y + 4)}">error</text>`,
      );
    }
  }
  out.push('  </g>', '  <g class="sg-nodes">');
  const start = layout.nodes.get(START)!;
  const cx = start.x + START_R;
  const cy = start.y + START_R;
  out.push(
    '    <g class="sg-start">',
    `      <circle class="sg-start-circle" cx="${num(cx)}" cy="${num(cy)}" r="${START_R}"/>`,
    `      <text class="sg-start-label" x="${num(cx - 2.5 * CHAR)}" y="${num(cy + 4)}">start</text>`,
    '    </g>',
  );
  for (const s of drawing.steps) out.push(...stepMarkup(s, layout.nodes.get(ids.get(s.name)!)!, options));
  out.push('  </g>', '</svg>');
  return `${out.join('\n')}\n`;
}

/** The size of a step's box, from its text (7px a character). */
function stepSize(s: DrawnStep): { width: number; height: number } {
  const texts = [s.name, kindText(s), ...s.extra, ...s.endpoints.map((e) => e.label)];
  const chars = Math.max(...texts.map((t) => Array.from(t).length));
  const endpoints = s.endpoints.length > 0 ? 4 + s.endpoints.length * ROW : 0;
  return { width: Math.max(96, chars * CHAR + 2 * PAD), height: 8 + 2 * LINE + s.extra.length * LINE + endpoints + 8 };
}

function stepMarkup(s: DrawnStep, box: Placed, options: SvgOptions): string[] {
  const { x, y, width, height } = box;
  const classes = ['sg-step', `sg-kind-${slug(s.kind)}`];
  if (s.responder) classes.push('sg-responder');
  if (s.collector) classes.push('sg-collector');
  if (s.handler) classes.push('sg-handler');
  if (s.streams) classes.push('sg-streaming');
  classes.push(...extraClasses(options, s.name));
  const out = [
    `    <g class="${esc(unique(classes).join(' '))}" data-step="${esc(s.name)}" data-kind="${esc(s.kind)}">`,
    `      <rect class="sg-node-box" x="${num(x)}" y="${num(y)}" width="${num(width)}" height="${num(height)}" rx="6"/>`,
  ];
  if (s.responder) {
    out.push(
      `      <rect class="sg-responder-ring" x="${num(x + 3)}" y="${num(y + 3)}" width="${num(width - 6)}" height="${num(height - 6)}" rx="4"/>`,
    );
  }
  const tx = num(x + PAD);
  out.push(`      <text class="sg-step-name" x="${tx}" y="${num(y + 20)}">${esc(s.name)}</text>`);
  out.push(`      <text class="sg-step-kind" x="${tx}" y="${num(y + 36)}">${esc(kindText(s))}</text>`);
  let cursor = y + 8 + 2 * LINE;
  for (const line of s.extra) {
    out.push(`      <text class="sg-step-extra" x="${tx}" y="${num(cursor + 12)}">${esc(line)}</text>`);
    cursor += LINE;
  }
  cursor += 4;
  for (const e of s.endpoints) {
    const extra = extraClasses(options, e.name);
    const health = options.health?.[e.name] ?? (extra.some((c) => HEALTH.includes(c)) ? undefined : 'sg-ok');
    const cls = unique(['sg-endpoint', ...(health === undefined ? [] : [health]), ...extra]).join(' ');
    out.push(
      `      <g class="${esc(cls)}" data-endpoint="${esc(e.name)}">`,
      `        <rect class="sg-endpoint-box" x="${num(x + 6)}" y="${num(cursor)}" width="${num(width - 12)}" height="20" rx="3"/>`,
      `        <text class="sg-endpoint-label" x="${tx}" y="${num(cursor + 14)}">${esc(e.label)}</text>`,
      '      </g>',
    );
    cursor += ROW;
  }
  out.push('    </g>');
  return out;
}

function kindText(s: DrawnStep): string {
  return s.streams ? `${s.kind} (streaming)` : s.kind;
}

function edgeClass(e: DrawnEdge): string {
  return e.type === 'stream' ? 'sg-edge sg-edge-stream' : e.type === 'error' ? 'sg-edge sg-edge-error' : 'sg-edge';
}

/** Where an edge's label goes: above the middle of its longest segment. */
function labelPoint(points: Point[]): Point {
  let best = { x: points[0]!.x, y: points[0]!.y };
  let length = -1;
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1]!, points[i]!];
    const d = Math.hypot(b.x - a.x, b.y - a.y);
    if (d > length) [length, best] = [d, { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 }];
  }
  return best;
}

function pathOf(points: Point[]): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${num(p.x)},${num(p.y)}`).join(' ');
}

function extraClasses(options: SvgOptions, name: string): string[] {
  const given = options.classes?.[name];
  if (given === undefined) return [];
  return (typeof given === 'string' ? [given] : [...given]).flatMap((c) => c.split(/\s+/)).filter((c) => c !== '');
}

function checkOptions(options: SvgOptions): void {
  const fail = (field: string, expected: string, got: unknown) =>
    new SgError('SG_ERR_INVALID_OPTION', `toSvg: ${field} must be ${expected}, got ${describe(got)}`, {
      details: { field },
    });
  if (options === null || typeof options !== 'object') throw fail('options', 'an object', options);
  for (const [name, value] of Object.entries(options.health ?? {})) {
    if (!HEALTH.includes(value)) throw fail(`health['${name}']`, `one of ${HEALTH.join(', ')}`, value);
  }
  for (const [name, value] of Object.entries(options.classes ?? {})) {
    const list: unknown[] = Array.isArray(value) ? value : [value];
    if (!list.every((c) => typeof c === 'string')) throw fail(`classes['${name}']`, 'a string or strings', value);
  }
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

/** A kind label as a class suffix: 'model runner' -> 'model-runner'. */
function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]+/g, '-');
}

/** A coordinate, rounded to a tenth of a pixel. */
function num(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** Text safe in XML content and in double- or single-quoted attributes. */
export function esc(text: string): string {
  return xmlChars(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** `text` with the characters XML 1.0 forbids (control characters, lone surrogates) replaced by U+FFFD. */
function xmlChars(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const bad =
      (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) ||
      (c >= 0xd800 && c <= 0xdfff) ||
      c === 0xfffe ||
      c === 0xffff;
    out += bad ? '\ufffd' : ch;
  }
  return out;
}
