import { type AddModelOptions, Model, type ModelCallContext, ModelSelector } from '../../src/index.js';

export class Echo extends Model {
  override predict(input: unknown, ctx: ModelCallContext) {
    return { input, endpoint: ctx.endpointName, artifact: ctx.artifact?.key };
  }
}

export class Plus extends Model<number, number> {
  override predict(x: number) {
    return x + ((this.modelParameters.n as number | undefined) ?? 1);
  }
}

export const base = (more: Partial<AddModelOptions> = {}): AddModelOptions => ({
  endpointName: 'm',
  modelClass: Echo,
  executionMechanism: 'naive',
  ...more,
});

export class Sel extends ModelSelector {}
