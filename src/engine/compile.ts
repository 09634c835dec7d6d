import { SgError } from '../errors/index.js';
import type { Graph } from '../graph/graph.js';
import { hasOwnDo, type Step } from '../graph/step.js';
import { Engine, Node } from './engine.js';
import { callProcessor } from './invoke.js';
import type { CompileContext, Processor } from './processor.js';

type AnyStep = Step<unknown, unknown>;

/**
 * Turn a validated graph into an Engine: resolve each step's references, make its processor, and link
 * the nodes (edges, responder, error handlers). Done once per server start.
 */
export async function compileGraph(
  graph: Graph,
  ctx: CompileContext,
): Promise<{ engine: Engine; processors: Map<string, Processor> }> {
  const engine = new Engine(ctx.logger);
  const processors = new Map<string, Processor>();
  for (const step of graph._steps.values()) {
    await step._resolve(ctx);
    processors.set(step.name, step._processor(ctx) ?? defaultProcessor(step, ctx));
  }

  // with metrics attached, every step is timed (servegraph_step_latency_seconds); the series are bound here, once
  const live = ctx.monitor?.liveMetrics?.();
  engine.timed = live !== undefined;
  const timerOf = (name: string) => live?.stepLatency(name, stepKind(graph._steps.get(name)));
  const nodes = new Map<string, Node>();
  for (const [name, proc] of processors) {
    const node = new Node(engine, name, proc);
    node.timer = timerOf(name);
    nodes.set(name, node);
  }
  const link = (node: Node, name: string) => {
    node.downstream = graph._downstream(name);
    node.outs = node.downstream.map((d) => nodes.get(d)!);
  };
  for (const [name, node] of nodes) link(node, name);
  engine.entry.outs = graph._starts().map((s) => nodes.get(s)!);
  engine.entry.downstream = graph._starts();

  const responder = graph.responder?.name;
  const reaching = reachingSet(graph, responder);
  engine.entry.reachesResponder = responder !== undefined;
  for (const [name, node] of nodes) {
    node.answers = name === responder;
    node.reachesResponder = reaching.has(name);
  }

  // error handlers: one node per handled step, since whether it answers depends on that step
  for (const [name, node] of nodes) {
    if (graph._handlers.has(name)) continue;
    const handlerName = graph._handlerOf.get(name) ?? graph._graphHandler;
    if (handlerName === undefined) continue;
    const h = new Node(engine, handlerName, processors.get(handlerName)!);
    h.timer = timerOf(handlerName);
    link(h, handlerName);
    h.isHandler = true;
    const hasBefore = h.outs.length > 0;
    h.answers = !hasBefore && responder !== undefined && node.reachesResponder;
    h.reachesResponder = h.answers || (hasBefore && h.outs.some((o) => o.reachesResponder));
    node.handler = h;
  }
  return { engine, processors };
}

/** The `kind` label of a step's latency: its class name (MapStep, ModelRunnerStep, a user step's class), fixed by the graph. */
function stepKind(step: AnyStep | undefined): string {
  return step?.constructor.name || 'Step';
}

/** Steps from which the responder can be reached along edges (handler `before` edges included). */
function reachingSet(graph: Graph, responder: string | undefined): Set<string> {
  const set = new Set<string>();
  if (responder === undefined) return set;
  const stack = [responder];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (set.has(n)) continue;
    set.add(n);
    for (const up of graph._upstream(n)) stack.push(up);
  }
  return set;
}

/** A user step (graph.md section 8): its `do` called like a MapStep handler. */
function defaultProcessor(step: AnyStep, ctx: CompileContext): Processor {
  if (!hasOwnDo(step)) {
    throw new SgError(
      'SG_ERR_INVALID_CLASS',
      `step '${step.name}' (${step.constructor.name}) does not implement do(input, ctx)`,
      {
        step: step.name,
      },
    );
  }
  return callProcessor(step, step.do, step, ctx.streaming);
}
