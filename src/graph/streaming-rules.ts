import { SgError } from '../errors/index.js';
import type { Graph } from './graph.js';
import type { Step } from './step.js';

type AnyStep = Step<unknown, unknown>;

/**
 * The validation rules of streaming.md, checked while streaming is enabled: walking from the start steps
 * breadth first in edge order, the first step that breaks a rule is reported with the fix.
 */
export function checkStreamingRules(graph: Graph): void {
  const steps = graph._steps;
  const handlers = graph._handlers;
  const streamIn = new Map<string, string | undefined>(); // the producer whose stream reaches a step's input
  const batchIn = new Map<string, string | undefined>(); // the Batch whose output reaches it without a FlatMap

  const label = (s: AnyStep) => (s._streamRole() === 'runner' ? `runner '${s.name}'` : `step '${s.name}'`);
  // a producer as the messages name it: 'words', or runner 'chat' (streaming.md, "Validation rules")
  const producerLabel = (s: AnyStep) => (s._streamRole() === 'runner' ? `runner '${s.name}'` : `'${s.name}'`);
  const outStream = (name: string): string | undefined => {
    const s = steps.get(name)!;
    if (s._streams()) return name;
    if (s._streamRole() === 'collector' || handlers.has(name)) return undefined;
    return inputStream(name);
  };
  const inputStream = (name: string): string | undefined => {
    if (streamIn.has(name)) return streamIn.get(name);
    streamIn.set(name, undefined); // the graph is acyclic (checked before): no re-entry
    let found: string | undefined;
    for (const up of graph._upstream(name)) found ??= outStream(up);
    streamIn.set(name, found);
    return found;
  };
  const outBatch = (name: string): string | undefined => {
    const role = steps.get(name)!._streamRole();
    if (role === 'batch') return name;
    if (role === 'flatMap' || handlers.has(name)) return undefined;
    return inputBatch(name);
  };
  const inputBatch = (name: string): string | undefined => {
    if (batchIn.has(name)) return batchIn.get(name);
    batchIn.set(name, undefined);
    let found: string | undefined;
    for (const up of graph._upstream(name)) found ??= outBatch(up);
    batchIn.set(name, found);
    return found;
  };

  for (const name of breadthFirst(graph)) {
    const step = steps.get(name)!;
    const producer = handlers.has(name) ? undefined : inputStream(name);
    const from = producer === undefined ? '' : producerLabel(steps.get(producer)!);
    if (step._streams() && producer !== undefined) {
      throw new SgError(
        'SG_ERR_STREAM_ON_STREAM',
        `${label(step)} streams but its input is the stream of ${from}; put a Collector between them`,
        {
          step: name,
          details: { producer },
        },
      );
    }
    if (step._streamRole() === 'batch' && producer !== undefined) {
      throw new SgError(
        'SG_ERR_STREAM_NOT_ACCEPTED',
        `Batch '${name}' cannot take the stream of ${from}; put a Collector before it`,
        {
          step: name,
          details: { producer },
        },
      );
    }
    const parents = graph._upstream(name);
    if (parents.length > 1) {
      const streaming = parents.find((p) => outStream(p) !== undefined);
      if (streaming !== undefined) {
        const p = outStream(streaming)!;
        throw new SgError(
          'SG_ERR_STREAM_MERGE',
          `'${name}' merges the stream of '${p}'; collect it first (${p} -> Collector -> ${name})`,
          {
            step: name,
            details: { producer: p, parents },
          },
        );
      }
    }
    if (step._streams()) {
      const batch = inputBatch(name);
      if (batch !== undefined) {
        throw new SgError(
          'SG_ERR_STREAM_BATCH',
          `Batch '${batch}' feeds streaming step '${name}': streaming a batch is not supported yet; put a FlatMap between them, or disable streaming`,
          { step: name, details: { batch } },
        );
      }
    }
    step._checkStreaming();
  }
}

/** Every step, breadth first from the start steps in edge order, then the error handlers and what they lead to. */
function breadthFirst(graph: Graph): string[] {
  const seen = new Set<string>();
  const order: string[] = [];
  const queue = [...graph._starts(), ...graph._handlers];
  while (queue.length > 0) {
    const n = queue.shift()!;
    if (seen.has(n) || !graph._steps.has(n)) continue;
    seen.add(n);
    order.push(n);
    queue.push(...graph._downstream(n));
  }
  for (const n of graph._steps.keys()) if (!seen.has(n)) order.push(n);
  return order;
}
