// The variants of the engine benchmark (issue #3). Every variant does the same work per step: a small
// synchronous object update, `{ ...b, n: b.n + 1 }`. Each variant is built once and returns a `run(body)`
// that sends one event and resolves with its reply.

import { RunnableLambda, RunnableSequence } from '@langchain/core/runnables';
import { Batch, createGraph, createMockServer, MapStep } from '../../dist/index.js';

/** The work of one step. */
export const inc = (b) => ({ ...b, n: b.n + 1 });

/** servegraph: a 5-step chain of MapSteps, default graph settings, driven through the mock server. */
export async function servegraphChain(steps = 5) {
  const graph = createGraph();
  let last = graph.to(new MapStep({ name: 's1', handler: inc }));
  for (let i = 2; i <= steps; i++) last = last.to(new MapStep({ name: `s${i}`, handler: inc }));
  last.respond();
  const server = createMockServer(graph, { logLevel: 'silent' });
  await server.ready();
  return { run: (body) => server.test('/', body), close: () => server.close() };
}

/** The floor: a hand-written chain of async functions doing the same work. */
export async function floorChain() {
  const f1 = async (b) => inc(b);
  const f2 = async (b) => inc(b);
  const f3 = async (b) => inc(b);
  const f4 = async (b) => inc(b);
  const f5 = async (b) => inc(b);
  return { run: async (body) => await f5(await f4(await f3(await f2(await f1(body))))), close: async () => {} };
}

/** LangChain.js: RunnableSequence of RunnableLambdas, `invoke` per event. */
export async function langchainChain(steps = 5) {
  const lambdas = [];
  for (let i = 0; i < steps; i++) lambdas.push(RunnableLambda.from((b) => inc(b)));
  const seq = RunnableSequence.from(lambdas);
  return { run: (body) => seq.invoke(body), close: async () => {} };
}

/**
 * servegraph fan-out: one step -> 4 map steps -> one merge step marked respond(). Merges do not join
 * (graph.md section 4): the merge runs once per arriving copy and the first copy answers. The branch
 * copies the event 3 times (structuredClone of the body), as the spec requires.
 */
export async function servegraphFanOut(branches = 4) {
  const graph = createGraph();
  const a = graph.to(new MapStep({ name: 'a', handler: inc }));
  const merge = new MapStep({ name: 'merge', handler: inc });
  for (let i = 1; i <= branches; i++) {
    const b = a.to(new MapStep({ name: `b${i}`, handler: inc }));
    b.to(merge);
  }
  merge.respond();
  const server = createMockServer(graph, { logLevel: 'silent' });
  await server.ready();
  return { run: (body) => server.test('/', body), close: () => server.close() };
}

/**
 * The floor of the fan-out: the same 1 + 4 + 4 calls written by hand (no copies: the handlers never
 * mutate their input, so hand-written code needs none); the first branch's merge result answers.
 */
export async function floorFanOut(branches = 4) {
  const fa = async (b) => inc(b);
  const fb = [];
  for (let i = 0; i < branches; i++) fb.push(async (b) => inc(b));
  const fm = async (b) => inc(b);
  return {
    run: async (body) => {
      const a = await fa(body);
      const outs = await Promise.all(fb.map((f) => f(a).then(fm)));
      return outs[0];
    },
    close: async () => {},
  };
}

/** servegraph with a Batch: Batch -> a map over the array -> respond(). */
export async function servegraphBatch(maxEvents = 64, flushAfterSeconds = 0.001) {
  const graph = createGraph();
  graph
    .to(new Batch({ name: 'batch', maxEvents, flushAfterSeconds }))
    .to(new MapStep({ name: 'map', handler: (items) => items.map(inc) }))
    .respond();
  const server = createMockServer(graph, { logLevel: 'silent' });
  await server.ready();
  return { run: (body) => server.test('/', body), close: () => server.close() };
}

/** The same graph without the Batch: one map step -> respond(). With `async`, the handler is async (like a model call). */
export async function servegraphNoBatch(async = false) {
  const graph = createGraph();
  graph.to(new MapStep({ name: 'map', handler: async ? async (b) => inc(b) : inc })).respond();
  const server = createMockServer(graph, { logLevel: 'silent' });
  await server.ready();
  return { run: (body) => server.test('/', body), close: () => server.close() };
}
