// Models used by the model-runner examples. Worker mechanisms import them by 'module#Export'.
import { threadId } from 'node:worker_threads';
import { Model, SgError } from 'servegraph';

/** Answers finance questions (a stand-in for an LLM endpoint). */
export class FinanceModel extends Model {
  predict(input) {
    return { answer: `rates for ${input.q}`, where: threadId === 0 ? 'main thread' : 'worker thread' };
  }
}

/** Answers travel questions, in a child process. */
export class TravelModel extends Model {
  async load() {
    this.currency = this.modelParameters.currency ?? 'EUR';
  }
  predict(input) {
    return {
      answer: `trip to ${input.q} from 120 ${this.currency}`,
      where: process.send ? 'child process' : 'main process',
    };
  }
}

/** Scores a list of texts in one call: a model that takes a batch. */
export class LengthScorer extends Model {
  predict(texts, ctx) {
    const list = ctx.batch ? texts : [texts];
    const scores = list.map((t) => ({ score: t.length, batchOf: ctx.batch?.size ?? 1 }));
    return ctx.batch ? scores : scores[0];
  }
}

/** Fails on an empty question, with an error of its own. */
export class StrictModel extends Model {
  predict(input) {
    if (!input.q) throw new SgError('SG_ERR_BAD_REQUEST', "expected a non-empty 'q'", { details: { field: 'q' } });
    return input.q.toUpperCase();
  }
}
