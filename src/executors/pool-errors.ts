import { errorText, placeError, SgError } from '../errors/index.js';
import { findUncloneable } from '../errors/serialize.js';
import type { ExitInfo } from './transport.js';
import { describeExit } from './transport.js';

/** The SgErrors a pool fails calls with (model-runner.md sections 6 and 8). */

type Where = { step: string; endpoint: string; pool: string };

const at = (w: Where): string => `step '${w.step}': model '${w.endpoint}'`;

/** What a model threw, as the call's failure: an SgError keeps its code, anything else is SG_ERR_MODEL_FAILED. */
export function modelFailed(w: Where, thrown: unknown): SgError {
  if (thrown instanceof SgError) return placeError(thrown, w.step, w.endpoint);
  return new SgError('SG_ERR_MODEL_FAILED', `${at(w)} failed: ${errorText(thrown)}`, {
    step: w.step,
    endpoint: w.endpoint,
    cause: thrown,
  });
}

export function timedOut(w: Where, timeoutMs: number): SgError {
  return new SgError('SG_ERR_MODEL_TIMEOUT', `${at(w)} did not answer within timeoutMs (${timeoutMs} ms)`, {
    step: w.step,
    endpoint: w.endpoint,
    details: { timeoutMs },
  });
}

export function workerDied(w: Where, kind: string, id: number, info: ExitInfo, why?: string): SgError {
  const how = describeExit(info);
  return new SgError(
    'SG_ERR_WORKER_DIED',
    `${at(w)}: its worker (${kind} ${id} of pool '${w.pool}') ${why ? `was ${why}` : 'exited'} during the call: ${how}`,
    {
      step: w.step,
      endpoint: w.endpoint,
      details: { pool: w.pool, code: info.code, signal: info.signal, ...(why ? { reason: why } : {}) },
    },
  );
}

export function workerDiedLoading(w: Where, kind: string, id: number, info: ExitInfo): SgError {
  return new SgError(
    'SG_ERR_WORKER_DIED',
    `${at(w)}: the worker loading it (${kind} ${id} of pool '${w.pool}') exited: ${describeExit(info)}`,
    { step: w.step, endpoint: w.endpoint, details: { pool: w.pool, code: info.code, signal: info.signal } },
  );
}

export function overloaded(w: Where, maxQueue: number): SgError {
  return new SgError(
    'SG_ERR_OVERLOADED',
    `${at(w)}: pool '${w.pool}' is full (${maxQueue} calls already waiting, maxQueue ${maxQueue})`,
    { step: w.step, endpoint: w.endpoint, details: { pool: w.pool, maxQueue } },
  );
}

export function unavailable(w: Where): SgError {
  return new SgError(
    'SG_ERR_MODEL_UNAVAILABLE',
    `${at(w)} is unavailable: pool '${w.pool}' has no worker left (they failed to restart)`,
    { step: w.step, endpoint: w.endpoint, details: { pool: w.pool } },
  );
}

export function serverClosed(w: Where, eventId: string, inFlight: boolean): SgError {
  const msg = inFlight
    ? `event '${eventId}': ${at(w)} was still running when pool '${w.pool}' closed (grace period over)`
    : `event '${eventId}': ${at(w)}: pool '${w.pool}' is closed`;
  return new SgError('SG_ERR_SERVER_CLOSED', msg, {
    step: w.step,
    endpoint: w.endpoint,
    details: { pool: w.pool, eventId },
  });
}

export function notCloneableIn(w: Where, input: unknown, sendError: unknown): SgError {
  const found = findUncloneable(input);
  const type = found?.type ?? (sendError instanceof Error ? sendError.message : String(sendError));
  const path = found ? `input${found.at}` : 'input';
  return new SgError('SG_ERR_NOT_CLONEABLE', `${at(w)}: its input cannot be copied to a worker: ${type} at ${path}`, {
    step: w.step,
    endpoint: w.endpoint,
    details: { direction: 'in', type, path },
  });
}

export function unknownModel(w: Where): SgError {
  return new SgError('SG_ERR_MODEL_UNAVAILABLE', `${at(w)}: pool '${w.pool}' has no such model`, {
    step: w.step,
    endpoint: w.endpoint,
    details: { pool: w.pool },
  });
}

export function closedDuringStart(step: string, pool: string): SgError {
  return new SgError(
    'SG_ERR_SERVER_CLOSED',
    `step '${step}': pool '${pool}' was closed before its workers were ready`,
    {
      step,
      details: { pool },
    },
  );
}
