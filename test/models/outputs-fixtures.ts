import { type Event, Model, ModelSelector, type PathOption, SgError } from '../../src/index.js';
import { runnerGraph } from './helpers.js';

export class AddOne extends Model<number, number> {
  override predict(x: number) {
    return x + 1;
  }
}

export class AddTwo extends Model<number, number> {
  override async predictAsync(x: number) {
    return x + 2;
  }
}
/** Returns { n: n + 1 } of the body. */

export class NextN extends Model<{ n: number }, unknown> {
  override predict(b: { n: number }) {
    return { n: b.n + 1 };
  }
}
/** Throws what the body asks for (default: a TypeError 'boom'). */

export class Boom extends Model<{ throw?: string }, unknown> {
  override predict(b: { throw?: string }): never {
    if (b.throw === 'value') throw 42;
    if (b.throw === 'bad-request') throw new SgError('SG_ERR_BAD_REQUEST', "expected 'q'", { details: { field: 'q' } });
    throw new TypeError('boom');
  }
}

export class PickBody extends ModelSelector {
  override select(event: Event) {
    return (event.body as { pick?: string[] }).pick;
  }
}

export type Ep = { name: string; resultPath?: PathOption };

export function table5(endpoints: Ep[]) {
  return runnerGraph(
    (r) => {
      for (const e of endpoints) {
        r.addModel({
          endpointName: e.name,
          modelClass: e.name === 'm1' ? AddOne : AddTwo,
          executionMechanism: e.name === 'm1' ? 'naive' : 'asyncio',
          inputPath: 'n',
          resultPath: e.resultPath,
        });
      }
    },
    { modelSelector: new PickBody() },
  ).graph;
}

export function stripPick(o: object): unknown {
  const { pick: _p, ...rest } = o as Record<string, unknown>;
  return rest;
}

export function table6(endpoints: string[], raiseException: boolean) {
  return runnerGraph(
    (r) => {
      for (const e of endpoints)
        r.addModel({ endpointName: e, modelClass: e === 'm1' ? NextN : Boom, executionMechanism: 'naive' });
    },
    { raiseException },
  ).graph;
}

export const SLOT = { error: 'TypeError: boom', code: 'SG_ERR_MODEL_FAILED' };
