import { describe, expect, test } from 'vitest';
import { ERROR_CODES, SgError } from '../../src/index.js';

describe('SgError (README.md)', () => {
  test('fields, defaults and instanceof', () => {
    const cause = new Error('root');
    const err = new SgError('SG_ERR_BAD_REQUEST', "expected 'q'", {
      step: 's',
      endpoint: 'e',
      details: { field: 'q' },
      cause,
    });
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(SgError);
    expect(err.name).toBe('SgError');
    expect(err.code).toBe('SG_ERR_BAD_REQUEST');
    expect(err.message).toBe("expected 'q'");
    expect(err.step).toBe('s');
    expect(err.endpoint).toBe('e');
    expect(err.details).toEqual({ field: 'q' });
    expect(err.cause).toBe(cause);
    expect(err.status).toBe(400);
    expect(typeof err.stack).toBe('string');
    expect(err.toJSON()).toEqual({ code: 'SG_ERR_BAD_REQUEST', message: "expected 'q'", step: 's', endpoint: 'e' });
    const bare = new SgError('SG_ERR_X1', 'm');
    expect(bare.step).toBeUndefined();
    expect(bare.endpoint).toBeUndefined();
    expect(bare.details).toEqual({});
    expect(bare.cause).toBeUndefined();
    expect(bare.toJSON()).toEqual({ code: 'SG_ERR_X1', message: 'm', step: null, endpoint: null });
    expect(new SgError('SG_ERR_X', 'm', { details: Object.create(null) }).details).toEqual({});
  });

  test('invalid arguments throw a TypeError', () => {
    const bad: Array<() => unknown> = [
      () => new SgError('BAD', 'm'),
      () => new SgError('SG_ERR_', 'm'),
      () => new SgError('SG_ERR_lower', 'm'),
      () => new SgError('SG_ERR_A-B', 'm'),
      () => new SgError(' SG_ERR_A', 'm'),
      () => new SgError(5 as never, 'm'),
      () => new SgError('SG_ERR_A', 5 as never),
      () => new SgError('SG_ERR_A', undefined as never),
      () => new SgError('SG_ERR_A', 'm', null as never),
      () => new SgError('SG_ERR_A', 'm', 'opts' as never),
      () => new SgError('SG_ERR_A', 'm', { step: 5 as never }),
      () => new SgError('SG_ERR_A', 'm', { endpoint: {} as never }),
      () => new SgError('SG_ERR_A', 'm', { details: [] as never }),
      () => new SgError('SG_ERR_A', 'm', { details: new Map() as never }),
      () => new SgError('SG_ERR_A', 'm', { details: 'x' as never }),
    ];
    for (const make of bad) expect(make).toThrow(TypeError);
    expect(() => new SgError('SG_ERR_A_1_B', '')).not.toThrow();
  });

  test('status is derived from the code', () => {
    const cases: Array<[string, number]> = [
      ['SG_ERR_PATH_TARGET', 400],
      ['SG_ERR_BATCH_KEY', 400],
      ['SG_ERR_OVERLOADED', 429],
      ['SG_ERR_STEP_FAILED', 500],
      ['SG_ERR_CHOICE_INVALID', 500],
      ['SG_ERR_FLATMAP_RESULT', 500],
      ['SG_ERR_NOT_CLONEABLE', 500],
      ['SG_ERR_BATCH_SIZE_MISMATCH', 500],
      ['SG_ERR_SERVER_CLOSED', 503],
      ['SG_ERR_TIMEOUT', 504],
      ['SG_ERR_CLIENT_CLOSED', 499],
      ['SG_ERR_PROVIDER_HTTP', 502],
      // build-time and start-up codes, and codes of the user's own: 500
      ['SG_ERR_INVALID_OPTION', 500],
      ['SG_ERR_GRAPH_CYCLE', 500],
      ['SG_ERR_STEP_INIT', 500],
      ['SG_ERR_QUOTA_EXCEEDED', 500],
    ];
    for (const [code, status] of cases) expect(new SgError(code, 'm').status, code).toBe(status);
  });

  test('SG_ERR_MODEL_RUNNER and SG_ERR_ABORTED take their cause status (500 for a non-SgError cause)', () => {
    const input = new SgError('SG_ERR_LLM_INPUT', 'bad input');
    const timeout = new SgError('SG_ERR_MODEL_TIMEOUT', 'slow');
    expect(new SgError('SG_ERR_MODEL_RUNNER', 'm', { cause: input }).status).toBe(400);
    expect(new SgError('SG_ERR_MODEL_RUNNER', 'm', { cause: timeout }).status).toBe(504);
    expect(new SgError('SG_ERR_MODEL_RUNNER', 'm', { cause: new Error('x') }).status).toBe(500);
    expect(new SgError('SG_ERR_MODEL_RUNNER', 'm').status).toBe(500);
    const closed = new SgError('SG_ERR_CLIENT_CLOSED', 'gone');
    expect(new SgError('SG_ERR_ABORTED', 'm', { cause: closed }).status).toBe(499);
    expect(new SgError('SG_ERR_ABORTED', 'm', { cause: timeout }).status).toBe(504);
    expect(new SgError('SG_ERR_ABORTED', 'm', { cause: 'reason' }).status).toBe(500);
    // nested: a runner error whose cause is itself derived
    const nested = new SgError('SG_ERR_MODEL_RUNNER', 'm', {
      cause: new SgError('SG_ERR_ABORTED', 'a', { cause: closed }),
    });
    expect(nested.status).toBe(499);
  });

  test('SG_ERR_PROVIDER_HTTP is 503 for a final 429, else 502', () => {
    expect(new SgError('SG_ERR_PROVIDER_HTTP', 'm', { details: { status: 429 } }).status).toBe(503);
    expect(new SgError('SG_ERR_PROVIDER_HTTP', 'm', { details: { status: 500 } }).status).toBe(502);
    expect(new SgError('SG_ERR_PROVIDER_HTTP', 'm', { details: { status: 401 } }).status).toBe(502);
  });

  test('every code of the table is well formed and has a status', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^SG_ERR_[A-Z0-9_]+$/);
      expect(info.status).toBeGreaterThanOrEqual(400);
      if (info.when === 'build') expect(info.status).toBe(500);
    }
  });
});
