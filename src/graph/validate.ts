import { SgError } from '../errors/index.js';
import type { Graph } from './graph.js';
import { checkStreamingRules } from './streaming-rules.js';

/** The whole-graph checks of graph.md section 13, in the order that page gives. */
export function validateGraph(graph: Graph): void {
  // 1. at least one step
  if (graph._steps.size === 0) {
    throw new SgError(
      'SG_ERR_EMPTY_GRAPH',
      `graph '${graph.name}' has no steps: add one with graph.to() or graph.add()`,
    );
  }
  // 2. every name refers to a step
  const known = (name: string) => graph._steps.has(name);
  for (const e of graph._edges) {
    for (const [name, other] of [
      [e.from, e.to],
      [e.to, e.from],
    ] as const) {
      if (!known(name)) {
        const field = graph._handlers.has(e.from) && name === e.to ? 'before' : 'after';
        throw new SgError(
          'SG_ERR_UNKNOWN_STEP',
          `step '${other}': ${field} names '${name}', which is not in graph '${graph.name}'`,
          {
            step: other,
            details: { field, missing: name },
          },
        );
      }
    }
  }
  for (const [step, handler] of graph._handlerOf) {
    if (!known(handler)) {
      throw new SgError(
        'SG_ERR_UNKNOWN_STEP',
        `step '${step}': onError names '${handler}', which is not in graph '${graph.name}'`,
        {
          step,
          details: { field: 'onError', missing: handler },
        },
      );
    }
  }
  if (graph._graphHandler !== undefined && !known(graph._graphHandler)) {
    throw new SgError(
      'SG_ERR_UNKNOWN_STEP',
      `graph '${graph.name}': onError names '${graph._graphHandler}', which is not a step`,
      {
        details: { field: 'onError', missing: graph._graphHandler },
      },
    );
  }
  // 3. acyclic, and no handler's `before` leads back to the step it handles
  const loop = findCycle(graph);
  if (loop) {
    throw new SgError('SG_ERR_GRAPH_CYCLE', `graph '${graph.name}' has a loop: ${loop.join(' -> ')}`, {
      step: loop[0],
      details: { loop },
    });
  }
  for (const [step, handler] of graph._handlerOf) {
    for (const b of graph._downstream(handler)) {
      if (graph._reaches(b, step)) {
        throw new SgError(
          'SG_ERR_GRAPH_CYCLE',
          `error handler '${handler}' of '${step}': before '${b}' leads back to '${step}', which would loop`,
          { step: handler },
        );
      }
    }
  }
  // 4. error handlers follow graph.md section 9
  for (const name of graph._handlers) {
    const handler = graph._steps.get(name)!;
    const handles = [...graph._handlerOf].filter(([, h]) => h === name).map(([s]) => s);
    const fail = (why: string) =>
      new SgError(
        'SG_ERR_INVALID_ERROR_HANDLER',
        `error handler '${name}'${handles.length ? ` of '${handles.join("', '")}'` : ''} ${why}`,
        {
          step: name,
          details: { handles },
        },
      );
    if (!handler._canHandleErrors())
      throw fail(`is a ${handler.constructor.name}: use a MapStep or a user-defined step`);
    if (handler._responder) throw fail('may not be marked with respond()');
    const up = graph._upstream(name);
    if (up.length > 0) throw fail(`may not have upstream steps (has '${up.join("', '")}')`);
    if (handles.includes(name)) throw fail('cannot handle its own failures');
    if (name === graph._graphHandler && graph._downstream(name).length > 0) {
      throw fail('is the graph-level handler and takes no before: the graph completes after it');
    }
  }
  // 5. at most one responder
  const responders = [...graph._steps.values()].filter((s) => s._responder).map((s) => s.name);
  if (responders.length > 1) {
    throw new SgError(
      'SG_ERR_MULTIPLE_RESPONDERS',
      `graph '${graph.name}' has several responders: '${responders[0]}' and '${responders[1]}'`,
      {
        step: responders[1],
        details: { responders },
      },
    );
  }
  // 6, 7: step-kind checks (Choice, ModelRunnerStep)
  for (const step of graph._steps.values()) step._validateInGraph(graph);
  // 8. the streaming rules, while streaming is enabled
  if (graph._streaming.enabled) checkStreamingRules(graph);
}

/** A loop along the edges, as the list of steps on it, or undefined. */
function findCycle(graph: Graph): string[] | undefined {
  const state = new Map<string, 1 | 2>(); // 1: on the stack, 2: done
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 1);
    stack.push(n);
    for (const next of graph._downstream(n)) {
      const s = state.get(next);
      if (s === 1) return [...stack.slice(stack.indexOf(next)), next];
      if (s === undefined) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of graph._steps.keys()) {
    if (!state.has(n)) {
      const found = visit(n);
      if (found) return found;
    }
  }
  return undefined;
}
