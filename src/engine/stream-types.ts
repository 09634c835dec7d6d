import type { StreamInfo } from './event.js';

/** Token usage of a model call (llm.md section 4). */
export type Usage = {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [field: string]: unknown;
};

/** The done payload of a stream: its end marker's body (streaming.md). */
export interface StreamDone {
  /** the originating event's id */
  id: string;
  /** chunks delivered to this consumer */
  chunks: number;
  usage?: Usage;
  [field: string]: unknown;
}

/** A Collector's custom merge (streaming.md, "The Collector step"). */
export type CollectorReducer<A = unknown, R = unknown> = {
  init(): A;
  step(acc: A, chunk: unknown, info: StreamInfo): A;
  finish?(acc: A, done: StreamDone): R;
};
