/** Graphs drawn by the SVG tests. */
import { fileURLToPath } from 'node:url';
import {
  Batch,
  Choice,
  Collector,
  createGraph,
  Filter,
  FlatMap,
  type Graph,
  MapStep,
  Model,
  ModelRunnerStep,
  Step,
} from '../../src/index.js';

export class Echo extends Model {
  override predict(input: unknown): unknown {
    return input;
  }
}

export class Talker extends Model {
  override async *predictStream(input: unknown): AsyncGenerator<unknown, unknown> {
    yield String(input);
    return undefined;
  }
}

export class Upper extends Step<string, string> {
  override do(input: string): string {
    return input.toUpperCase();
  }
}

const id = (x: unknown) => x;
const RUNNER_MODELS = fileURLToPath(new URL('../fixtures/models/runner-models.mjs', import.meta.url));

/** One step of every kind, with a branch (route) and a merge (merge). */
export function kindsGraph(): Graph {
  const g = createGraph({ name: 'kinds' });
  const route = g.to(new MapStep({ name: 'clean', handler: id })).to(new Choice({ name: 'route', handler: () => [] }));
  const group = route
    .to(new Filter({ name: 'keep', handler: () => true }))
    .to(new Batch({ name: 'group', maxEvents: 2 }));
  const custom = route
    .to(new FlatMap({ name: 'split', handler: (x: unknown) => [x] }))
    .to(new Upper({ name: 'custom' }));
  const merge = group.to(new MapStep({ name: 'merge', handler: id }));
  custom.to(merge);
  merge.respond();
  return g;
}

/** A streaming runner, a Collector after it, a second runner on a branch, and error handlers. */
export function runnerGraph(name = 'runners'): Graph {
  const g = createGraph({ name });
  const prep = g.to(new MapStep({ name: 'prep', handler: id }));
  const chat = new ModelRunnerStep({ name: 'chat' }).addModel({
    endpointName: 'talk',
    modelClass: Talker,
    executionMechanism: 'asyncio',
  });
  const scores = new ModelRunnerStep({ name: 'scores' })
    .addModel({ endpointName: 'fast', modelClass: Echo, executionMechanism: 'naive' })
    .addModel({ endpointName: 'slow', modelClass: `${RUNNER_MODELS}#AddN`, executionMechanism: 'thread_pool' });
  const reply = new MapStep({ name: 'reply', handler: id });
  prep
    .to(chat)
    .to(new Collector({ name: 'gather' }))
    .to(reply);
  prep.to(scores).to(reply);
  reply.respond();
  prep.errorHandler(new MapStep({ name: 'oops', handler: id }));
  g.errorHandler(new MapStep({ name: 'last', handler: id }));
  return g;
}
