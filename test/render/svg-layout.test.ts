// The layered layout behind toSvg: layers, no overlapping boxes, edges that stay between columns, stability.
import { describe, expect, test } from 'vitest';
import { createGraph, MapStep } from '../../src/index.js';
import { type Layout, layered } from '../../src/render/layout.js';
import { kindsGraph, runnerGraph } from './graphs.js';
import { allElements, byClass, type Element, parseXml } from './xml-check.js';

type Box = { x: number; y: number; width: number; height: number; name: string };

const intersects = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

function noOverlaps(boxes: Box[]): void {
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      expect(intersects(boxes[i]!, boxes[j]!), `${boxes[i]!.name} and ${boxes[j]!.name} overlap`).toBe(false);
    }
  }
}

/** The node box of each step of a drawn SVG, by step name. */
function stepBoxes(root: Element): Map<string, Box> {
  const out = new Map<string, Box>();
  for (const g of allElements(root).filter((e) => e.attrs['data-step'] !== undefined)) {
    const r = byClass(g, 'sg-node-box')[0]!.attrs;
    const name = g.attrs['data-step']!;
    out.set(name, { x: +r.x!, y: +r.y!, width: +r.width!, height: +r.height!, name });
  }
  return out;
}

const map = (name: string) => new MapStep({ name, handler: (x: unknown) => x });

/** A diamond fan-out of `n` branches merging again, with a long edge skipping the branches. */
function wideGraph(n: number) {
  const g = createGraph({ name: 'wide' });
  const a = g.to(map('a'));
  const z = map('z');
  for (let i = 0; i < n; i++)
    a.to(map(`branch-with-a-long-name-${i}`))
      .to(map(`b${i}`))
      .to(z);
  a.to(z);
  z.respond();
  return g;
}

describe('layout of the SVG', () => {
  test('branches and merges: no two node boxes intersect, all inside the drawing', () => {
    for (const g of [kindsGraph(), runnerGraph(), wideGraph(5)]) {
      const root = parseXml(g.toSvg());
      const boxes = [...stepBoxes(root).values()];
      const start = byClass(root, 'sg-start-circle')[0]!.attrs;
      const r = +start.r!;
      boxes.push({ x: +start.cx! - r, y: +start.cy! - r, width: 2 * r, height: 2 * r, name: 'start' });
      noOverlaps(boxes);
      const [w, h] = [+root.attrs.width!, +root.attrs.height!];
      for (const b of boxes) {
        expect(b.x).toBeGreaterThanOrEqual(0);
        expect(b.y).toBeGreaterThanOrEqual(0);
        expect(b.x + b.width).toBeLessThanOrEqual(w);
        expect(b.y + b.height).toBeLessThanOrEqual(h);
      }
      // endpoint rows sit inside their runner's box
      for (const node of allElements(root).filter((e) => e.attrs['data-step'] !== undefined)) {
        const box = stepBoxes(root).get(node.attrs['data-step']!)!;
        for (const row of byClass(node, 'sg-endpoint-box')) {
          expect(+row.attrs.x!).toBeGreaterThan(box.x);
          expect(+row.attrs.y! + +row.attrs.height!).toBeLessThan(box.y + box.height);
        }
      }
    }
  });

  test('steps go left to right in layers of their longest path from the start; branches side by side', () => {
    const boxes = stepBoxes(parseXml(kindsGraph().toSvg()));
    const x = (n: string) => boxes.get(n)!.x;
    expect(x('clean')).toBeLessThan(x('route'));
    expect(boxes.get('keep')!.x + boxes.get('keep')!.width).toBeLessThan(x('group'));
    // the two branches share columns, one above the other
    expect(boxes.get('keep')!.x + boxes.get('keep')!.width / 2).toBe(
      boxes.get('split')!.x + boxes.get('split')!.width / 2,
    );
    expect(boxes.get('keep')!.y).not.toBe(boxes.get('split')!.y);
    expect(x('merge')).toBeGreaterThan(x('group'));
    expect(x('merge')).toBeGreaterThan(x('custom'));
  });

  test('a box is as wide as its longest text at 7px a character', () => {
    const boxes = stepBoxes(parseXml(wideGraph(1).toSvg()));
    expect(boxes.get('branch-with-a-long-name-0')!.width).toBe('branch-with-a-long-name-0'.length * 7 + 24);
    expect(boxes.get('a')!.width).toBe(96); // the minimum
  });

  test('a chain is a straight line', () => {
    const g = createGraph();
    g.to(map('one')).to(map('two')).to(map('three'));
    const boxes = [...stepBoxes(parseXml(g.toSvg())).values()];
    expect(new Set(boxes.map((b) => b.y)).size).toBe(1);
  });

  test('layered(): longest-path layers, long edges routed through the gaps, stable', () => {
    const nodes = ['s', 'a', 'b', 'c', 't'].map((id) => ({ id, width: 50, height: 30 }));
    const edges = [
      { from: 's', to: 'a' },
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
      { from: 's', to: 'c' },
      { from: 'c', to: 't' },
      { from: 's', to: 't', secondary: true },
    ];
    const layout = layered(nodes, edges);
    expect(['s', 'a', 'b', 'c', 't'].map((n) => layout.nodes.get(n)!.layer)).toEqual([0, 1, 2, 3, 4]);
    expect(layered(nodes, edges)).toEqual(layout);
    noOverlaps([...layout.nodes].map(([name, b]) => ({ ...b, name })));
    for (const route of layout.edges) {
      const from = layout.nodes.get(route.from)!;
      const to = layout.nodes.get(route.to)!;
      expect(route.points[0]).toEqual({ x: from.x + from.width, y: from.y + from.height / 2 });
      expect(route.points.at(-1)).toEqual({ x: to.x, y: to.y + to.height / 2 });
      expect(crossesABox(route.points, layout, [route.from, route.to])).toBe(false);
    }
  });

  test('layered(): a loop (an unvalidated graph) is drawn with a back edge instead of hanging', () => {
    const nodes = ['a', 'b', 'c'].map((id) => ({ id, width: 40, height: 20 }));
    const layout = layered(nodes, [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
      { from: 'c', to: 'a' },
    ]);
    expect(layout.nodes.size).toBe(3);
    expect(layout.edges).toHaveLength(3);
    expect(Math.max(...layout.edges[2]!.points.map((p) => p.y))).toBeGreaterThan(20 + 16);
    expect(layered([], [])).toMatchObject({ edges: [], nodes: new Map() });
    // a self-loop and an edge to an unknown node are left out; the others keep their index
    const some = layered(nodes, [
      { from: 'a', to: 'a' },
      { from: 'a', to: 'x' },
      { from: 'a', to: 'b' },
    ]);
    expect(some.edges.map((e) => e.index)).toEqual([2]);
  });
});

/** Whether a polyline passes through the inside of a box other than its two ends. */
function crossesABox(points: { x: number; y: number }[], layout: Layout, ends: string[]): boolean {
  for (const [id, b] of layout.nodes) {
    if (ends.includes(id)) continue;
    for (let i = 1; i < points.length; i++) {
      const [p, q] = [points[i - 1]!, points[i]!];
      for (let t = 0; t <= 1; t += 1 / 64) {
        const x = p.x + (q.x - p.x) * t;
        const y = p.y + (q.y - p.y) * t;
        if (x > b.x && x < b.x + b.width && y > b.y && y < b.y + b.height) return true;
      }
    }
  }
  return false;
}
