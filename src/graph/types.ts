import type { Event } from '../engine/event.js';

/** The context every step handler and `do()` receives (graph.md section 7). */
export type StepContext = { readonly event: Event; readonly signal: AbortSignal };

/** A path option: dot-separated string, or the segments as an array (graph.md section 5). */
export type PathOption = string | string[];

/** Options every step that calls user code accepts (graph.md sections 5 and 7). */
export type StepOptions = {
  name?: string;
  inputPath?: PathOption;
  resultPath?: PathOption;
  fullEvent?: boolean;
  /** the step is a streaming step (streaming.md); default: whether the handler or `do` is a generator function */
  streaming?: boolean;
  /** how the step's stream is merged when it is collected (streaming.md) */
  collect?: (chunks: unknown[], summary: unknown) => unknown;
  /** a user step's own parameters */
  [param: string]: unknown;
};
