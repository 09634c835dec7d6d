/** A box to place: its id and size in pixels. */
export type LayoutNode = { id: string; width: number; height: number };
/** A directed edge between two node ids; a `secondary` edge (an error edge) does not pull its target level with it. */
export type LayoutEdge = { from: string; to: string; secondary?: boolean };
export type Point = { x: number; y: number };
/** A placed node: its top-left corner, size, layer (column) and position in the layer. */
export type Placed = { x: number; y: number; width: number; height: number; layer: number; order: number };
/** A routed edge (`index`: its place in the edges given): the polyline from the right of `from` to the left of `to`. */
export type Route = { index: number; from: string; to: string; points: Point[] };
export type Layout = { nodes: Map<string, Placed>; edges: Route[]; width: number; height: number };
export type LayoutOptions = { layerGap?: number; nodeGap?: number; margin?: number; laneGap?: number };

/** A node or a point of a long edge in a layer; `primary`: reached by an edge that is not secondary. */
type Slot = { id: string; width: number; height: number; dummy: boolean; primary: boolean; order: number; y: number };

/**
 * A layered left-to-right layout, computed without a browser (a small Sugiyama): each node in the layer of
 * its longest path from a source, edges that span layers broken at invisible points (one per layer
 * crossed), nodes ordered in their layer by the barycentres of their neighbours, each layer a column whose
 * nodes sit level with their predecessors where they can (a chain is a straight line, a branch spreads around
 * the step it leaves). A column holds nothing but its own nodes, stacked with a gap, so boxes never overlap
 * and every edge segment between columns runs in the gap between them. Equal inputs give equal layouts.
 */
export function layered(
  nodes: readonly LayoutNode[],
  edges: readonly LayoutEdge[],
  options: LayoutOptions = {},
): Layout {
  const layerGap = options.layerGap ?? 64;
  const nodeGap = options.nodeGap ?? 24;
  const margin = options.margin ?? 16;
  const laneGap = options.laneGap ?? 14;
  if (nodes.length === 0) return { nodes: new Map(), edges: [], width: margin * 2, height: margin * 2 };
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  // edges to unknown nodes and self-loops are not drawn
  const given = edges.map((e, i) => ({ ...e, index: i }));
  const valid = given.filter((e) => index.has(e.from) && index.has(e.to) && e.from !== e.to);
  const { layer, back } = assignLayers(nodes, valid, index);

  // one slot per node, plus a dummy slot per layer crossed by a long edge
  const layers: Slot[][] = [];
  const slotOf = new Map<string, Slot>();
  const put = (slot: Slot, l: number) => {
    (layers[l] ??= []).push(slot);
    slotOf.set(slot.id, slot);
  };
  const primary = new Set(valid.filter((e, k) => !e.secondary && !back.has(k)).map((e) => e.to));
  nodes.forEach((n, i) => {
    const slot = {
      id: n.id,
      width: n.width,
      height: n.height,
      dummy: false,
      primary: primary.has(n.id),
      order: i,
      y: 0,
    };
    put(slot, layer[i]!);
  });
  const chains: string[][] = valid.map((e, k) => {
    if (back.has(k)) return [e.from, e.to];
    const from = layer[index.get(e.from)!]!;
    const to = layer[index.get(e.to)!]!;
    const chain = [e.from];
    for (let l = from + 1; l < to; l++) {
      const id = `\u0000${k}:${l}`;
      // after the nodes on ties
      put({ id, width: 0, height: 0, dummy: true, primary: !e.secondary, order: nodes.length + k, y: 0 }, l);
      chain.push(id);
    }
    chain.push(e.to);
    return chain;
  });
  for (let l = 0; l < layers.length; l++) layers[l] ??= [];
  const preds = predecessors(chains, back);
  orderLayers(layers, preds, slotOf);

  // columns
  const colWidth = layers.map((slots) => Math.max(0, ...slots.map((s) => s.width)));
  const colX: number[] = [];
  let x = margin;
  for (const w of colWidth) {
    colX.push(x);
    x += w + layerGap;
  }
  const innerWidth = colWidth.reduce((a, b) => a + b, 0) + Math.max(0, layers.length - 1) * layerGap;
  for (const slots of layers) placeColumn(slots, preds, slotOf, nodeGap);
  // shift everything so the highest box starts at the margin
  const tops = layers.flatMap((slots) => slots.map((s) => s.y - s.height / 2));
  const bottoms = layers.flatMap((slots) => slots.map((s) => s.y + s.height / 2));
  const shift = margin - Math.min(...tops);
  for (const slots of layers) for (const s of slots) s.y += shift;
  const innerHeight = Math.max(...bottoms) - Math.min(...tops);
  const placed = new Map<string, Placed>();
  layers.forEach((slots, l) => {
    slots.forEach((s, order) => {
      if (s.dummy) return;
      const px = colX[l]! + (colWidth[l]! - s.width) / 2;
      placed.set(s.id, { x: px, y: s.y - s.height / 2, width: s.width, height: s.height, layer: l, order });
    });
  });

  // routes
  const left = (l: number) => colX[l]!;
  const right = (l: number) => colX[l]! + colWidth[l]!;
  let lanes = 0;
  const routes: Route[] = valid.map((e, k) => {
    const a = placed.get(e.from)!;
    const b = placed.get(e.to)!;
    const ay = a.y + a.height / 2;
    const by = b.y + b.height / 2;
    const pts: Point[] = [{ x: a.x + a.width, y: ay }];
    if (back.has(k)) {
      // an edge against the layers (a loop in an unvalidated graph): around the drawing, below it
      const lane = margin + innerHeight + laneGap * ++lanes;
      const x1 = right(a.layer) + layerGap / 2;
      const x2 = left(b.layer) - layerGap / 2;
      pts.push({ x: x1, y: ay }, { x: x1, y: lane }, { x: x2, y: lane }, { x: x2, y: by });
    } else {
      pts.push({ x: right(a.layer), y: ay });
      const chain = chains[k]!;
      for (let i = 1; i < chain.length - 1; i++) {
        const d = slotOf.get(chain[i]!)!;
        const l = a.layer + i;
        pts.push({ x: left(l), y: d.y }, { x: right(l), y: d.y });
      }
      pts.push({ x: left(b.layer), y: by });
    }
    pts.push({ x: b.x, y: by });
    return { index: e.index, from: e.from, to: e.to, points: dedupe(pts) };
  });
  const height = margin * 2 + innerHeight + (lanes > 0 ? laneGap * lanes + laneGap / 2 : 0);
  return { nodes: placed, edges: routes, width: margin * 2 + innerWidth, height };
}

/**
 * Longest-path layers from the sources. Nodes are taken in a topological order that prefers the earliest
 * node; when only a loop remains, its earliest node is taken and its unvisited in-edges become back edges.
 */
function assignLayers(
  nodes: readonly LayoutNode[],
  edges: readonly LayoutEdge[],
  index: Map<string, number>,
): { layer: number[]; back: Set<number> } {
  const n = nodes.length;
  const incoming: number[][] = nodes.map(() => []);
  const pending = new Array<number>(n).fill(0);
  edges.forEach((e, k) => {
    incoming[index.get(e.to)!]!.push(k);
    pending[index.get(e.to)!]!++;
  });
  const done = new Array<boolean>(n).fill(false);
  const layer = new Array<number>(n).fill(0);
  const back = new Set<number>();
  for (let taken = 0; taken < n; taken++) {
    let next = -1;
    for (let i = 0; i < n && next < 0; i++) if (!done[i] && pending[i] === 0) next = i;
    if (next < 0) {
      next = done.indexOf(false);
      for (const k of incoming[next]!) if (!done[index.get(edges[k]!.from)!]) back.add(k);
    }
    done[next] = true;
    for (const k of incoming[next]!) {
      if (!back.has(k)) layer[next] = Math.max(layer[next]!, layer[index.get(edges[k]!.from)!]! + 1);
    }
    edges.forEach((e, k) => {
      if (e.from === nodes[next]!.id && !back.has(k)) pending[index.get(e.to)!]!--;
    });
  }
  return { layer, back };
}

/**
 * Set the centres (`y`) of a column's slots, in their order: each as near as it can be to the mean centre of
 * its predecessors without coming closer than `gap` to the slot above it, then the whole column moved up
 * by the mean displacement of its primary nodes (so a branch spreads evenly around the step it leaves).
 */
function placeColumn(slots: Slot[], preds: Map<string, string[]>, slotOf: Map<string, Slot>, gap: number): void {
  let bottom = Number.NEGATIVE_INFINITY;
  const moved: number[] = [];
  const movedReal: number[] = [];
  for (const s of slots) {
    const ps = preds.get(s.id) ?? [];
    const lowest = bottom === Number.NEGATIVE_INFINITY ? s.height / 2 : bottom + gap + s.height / 2;
    if (ps.length === 0) s.y = lowest;
    else {
      const want = ps.reduce((t, id) => t + slotOf.get(id)!.y, 0) / ps.length;
      s.y = Math.max(want, lowest);
      (s.primary && !s.dummy ? movedReal : moved).push(s.y - want);
    }
    bottom = s.y + s.height / 2;
  }
  const offsets = movedReal.length > 0 ? movedReal : moved;
  const up = offsets.length === 0 ? 0 : offsets.reduce((a, b) => a + b, 0) / offsets.length;
  for (const s of slots) s.y -= up;
}

/** The slots before each slot along the (unbroken) edge chains. */
function predecessors(chains: string[][], back: Set<number>): Map<string, string[]> {
  const preds = new Map<string, string[]>();
  chains.forEach((chain, k) => {
    if (back.has(k)) return;
    for (let i = 1; i < chain.length; i++)
      (preds.get(chain[i]!) ?? preds.set(chain[i]!, []).get(chain[i]!)!).push(chain[i - 1]!);
  });
  return preds;
}

/** Order each layer by the barycentres of the neighbours in the layer before (then after, then before). */
function orderLayers(layers: Slot[][], preds: Map<string, string[]>, slotOf: Map<string, Slot>): void {
  const succs = new Map<string, string[]>();
  for (const [b, as] of preds) for (const a of as) (succs.get(a) ?? succs.set(a, []).get(a)!).push(b);
  const renumber = (slots: Slot[]) => {
    slots.forEach((s, i) => {
      s.order = i;
    });
  };
  for (const slots of layers) {
    slots.sort((a, b) => a.order - b.order);
    renumber(slots);
  }
  const sweep = (l: number, neighbours: Map<string, string[]>) => {
    const slots = layers[l]!;
    const key = new Map<Slot, number>();
    for (const s of slots) {
      const ns = neighbours.get(s.id) ?? [];
      key.set(s, ns.length === 0 ? s.order : ns.reduce((t, id) => t + slotOf.get(id)!.order, 0) / ns.length);
    }
    slots.sort((a, b) => key.get(a)! - key.get(b)! || a.order - b.order);
    renumber(slots);
  };
  for (let l = 1; l < layers.length; l++) sweep(l, preds);
  for (let l = layers.length - 2; l >= 0; l--) sweep(l, succs);
  for (let l = 1; l < layers.length; l++) sweep(l, preds);
}

/** Drop points equal to the one before them. */
function dedupe(points: Point[]): Point[] {
  return points.filter((p, i) => i === 0 || p.x !== points[i - 1]!.x || p.y !== points[i - 1]!.y);
}
