import { performance } from 'node:perf_hooks';
import { describe, placeError, SgError } from '../errors/index.js';
import type { ExecCall, ModelExecutor } from './executor.js';

/** What an in-process model looks like to its executor. */
export type InlineModel = {
  predictStream?: (input: unknown, ctx: never) => AsyncIterable<unknown>;
  predict(input: unknown, ctx: unknown): unknown;
  predictAsync(input: unknown, ctx: unknown): Promise<unknown>;
  close(): unknown;
};

/**
 * Runs one model on the main thread (model-runner.md section 8): `naive` calls `predict` inline
 * (falling back to `predictAsync`), `asyncio` awaits `predictAsync` (falling back to `predict`).
 * The input is a private copy; `maxConcurrentCalls` queues calls beyond it in FIFO order; a timeout
 * fails the call at once and aborts its signal (the late output is ignored).
 */
export class InlineExecutor implements ModelExecutor {
  readonly copies = 1;
  private running = 0;
  /** calls waiting for a slot (dropped ones excluded) */
  private queued = 0;
  private readonly waiting: Array<{ run: () => void; dropped: boolean }> = [];
  private readonly method: 'predict' | 'predictAsync';

  constructor(
    readonly name: string,
    private readonly model: InlineModel,
    mechanism: 'naive' | 'asyncio',
    implemented: { predict: boolean; predictAsync: boolean },
    private readonly maxConcurrentCalls: number | undefined,
  ) {
    const prefersAsync = mechanism === 'asyncio';
    this.method = prefersAsync
      ? implemented.predictAsync
        ? 'predictAsync'
        : 'predict'
      : implemented.predict
        ? 'predict'
        : 'predictAsync';
  }

  get queueDepth(): number {
    return this.queued;
  }

  /** A streaming model's call: its predictStream generator, on a private copy of the input. */
  callStream(c: ExecCall): AsyncIterable<unknown> {
    c.onStart?.();
    const input = copyInput(c.input);
    const stream = this.model.predictStream!(input, c.makeContext() as never);
    if (stream === null || typeof stream !== 'object' || typeof stream[Symbol.asyncIterator] !== 'function') {
      throw new SgError(
        'SG_ERR_MODEL_FAILED',
        `endpoint '${c.ctx.endpointName}': predictStream must be an async generator method`,
        {
          step: c.ctx.step,
          endpoint: c.ctx.endpointName,
        },
      );
    }
    return stream;
  }

  async start(): Promise<void> {}

  call(c: ExecCall): unknown {
    if (this.maxConcurrentCalls === undefined || this.running < this.maxConcurrentCalls) {
      const t0 = c.timeoutMs > 0 ? performance.now() : 0;
      const r = this.invoke(c);
      if (c.timeoutMs <= 0) return r;
      if (isThenable(r)) return withTimeout(Promise.resolve(r), c, () => {});
      // a synchronous call that overran its limit: its output is late, and ignored like any late output
      if (performance.now() - t0 > c.timeoutMs) {
        const err = timeoutError(c);
        c.abort(err);
        throw err;
      }
      return r;
    }
    // over maxConcurrentCalls: wait in FIFO order. A call no longer wanted while it waits (its timeoutMs
    // passed, the client left, the server is closing) just leaves the queue: it never starts.
    const entry = { run: () => {}, dropped: false };
    const drop = () => {
      if (entry.dropped) return false;
      entry.dropped = true;
      this.queued--;
      return true;
    };
    const signal = c.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const p = new Promise<unknown>((resolve, reject) => {
      const onAbort = () => {
        if (drop()) reject(signal?.reason);
      };
      entry.run = () => {
        signal?.removeEventListener('abort', onAbort);
        try {
          resolve(this.invoke(c));
        } catch (err) {
          reject(err);
        }
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    this.waiting.push(entry);
    this.queued++;
    return c.timeoutMs > 0 ? withTimeout(p, c, drop) : p;
  }

  async close(): Promise<void> {
    await this.model.close();
  }

  private invoke(c: ExecCall): unknown {
    this.running++;
    c.onStart?.();
    let input: unknown;
    try {
      input = copyInput(c.input);
    } catch (err) {
      this.done();
      throw placeError(err as SgError, c.ctx.step, c.ctx.endpointName);
    }
    const ctx = c.makeContext();
    let result: unknown;
    try {
      result = this.method === 'predict' ? this.model.predict(input, ctx) : this.model.predictAsync(input, ctx);
    } catch (err) {
      this.done();
      throw modelError(err, c.ctx.step, c.ctx.endpointName);
    }
    if (!isThenable(result)) {
      this.done();
      return checkOutput(result, c);
    }
    return Promise.resolve(result).then(
      (v) => {
        this.done();
        return checkOutput(v, c);
      },
      (err: unknown) => {
        this.done();
        throw modelError(err, c.ctx.step, c.ctx.endpointName);
      },
    );
  }

  private done(): void {
    this.running--;
    for (let next = this.waiting.shift(); next !== undefined; next = this.waiting.shift()) {
      if (!next.dropped) {
        next.dropped = true;
        this.queued--;
        next.run();
        return;
      }
    }
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
}

function copyInput(v: unknown): unknown {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'function' || typeof v === 'symbol') throw notCloneable(v, 'in');
    return v;
  }
  try {
    return structuredClone(v);
  } catch (err) {
    throw notCloneable(v, 'in', err);
  }
}

function notCloneable(v: unknown, direction: 'in' | 'out', cause?: unknown): SgError {
  return new SgError(
    'SG_ERR_NOT_CLONEABLE',
    `model ${direction === 'in' ? 'input' : 'output'} cannot be copied: it holds ${describe(v)}`,
    {
      details: { direction, type: describe(v) },
      cause,
    },
  );
}

function checkOutput(v: unknown, c: ExecCall): unknown {
  if (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  ) {
    throw new SgError(
      'SG_ERR_STREAM_UNDECLARED',
      `endpoint '${c.ctx.endpointName}': predict returned an async iterable; use predictStream`,
      {
        step: c.ctx.step,
        endpoint: c.ctx.endpointName,
      },
    );
  }
  return v;
}

/** A thrown value as the call's failure: an SgError keeps its code, anything else is SG_ERR_MODEL_FAILED. */
export function modelError(err: unknown, step: string, endpoint: string): SgError {
  if (err instanceof SgError) return placeError(err, step, endpoint);
  const text = err instanceof Error ? `${err.name}: ${err.message}` : `Error: ${String(err)}`;
  return new SgError('SG_ERR_MODEL_FAILED', `endpoint '${endpoint}' failed: ${text}`, { step, endpoint, cause: err });
}

function withTimeout(p: Promise<unknown>, c: ExecCall, onTimeout: () => void): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      const err = timeoutError(c);
      c.abort(err);
      reject(err);
    }, c.timeoutMs);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** SG_ERR_MODEL_TIMEOUT naming step, endpoint and the limit. */
function timeoutError(c: ExecCall): SgError {
  return new SgError(
    'SG_ERR_MODEL_TIMEOUT',
    `runner '${c.ctx.step}', endpoint '${c.ctx.endpointName}' did not answer within ${c.timeoutMs} ms (timeoutMs)`,
    {
      step: c.ctx.step,
      endpoint: c.ctx.endpointName,
      details: { timeoutMs: c.timeoutMs },
    },
  );
}
