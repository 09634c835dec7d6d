import { describe, expect, test } from 'vitest';
import { SgError } from '../../src/errors/index.js';
import { deserializeError, findUncloneable, serializeError } from '../../src/errors/serialize.js';

/** Errors crossing a thread or process boundary (model-runner.md section 8, graph.md section 14). */
const roundTrip = (err: unknown): unknown => deserializeError(structuredClone(serializeError(err)));

describe('serializeError / deserializeError', () => {
  test('an SgError comes back as an SgError with code, message, step, endpoint, details, cause and status', () => {
    const cause = new RangeError('inner');
    const err = new SgError('SG_ERR_BAD_REQUEST', "expected 'q'", {
      step: 'runner',
      endpoint: 'm',
      details: { field: 'q', nested: { n: [1, 2] } },
      cause,
    });
    const back = roundTrip(err) as SgError;
    expect(back).toBeInstanceOf(SgError);
    expect(back.code).toBe('SG_ERR_BAD_REQUEST');
    expect(back.message).toBe("expected 'q'");
    expect(back.step).toBe('runner');
    expect(back.endpoint).toBe('m');
    expect(back.details).toEqual({ field: 'q', nested: { n: [1, 2] } });
    expect(back.status).toBe(400);
    expect(back.cause).toBeInstanceOf(RangeError);
    expect((back.cause as Error).message).toBe('inner');
    expect(back.stack).toBe(err.stack);
  });

  test('details that cannot be cloned come back as {}', () => {
    const err = new SgError('SG_ERR_QUOTA_EXCEEDED', 'x', { details: { f: () => 1 } });
    expect((roundTrip(err) as SgError).details).toEqual({});
  });

  test('an SgError cause is rebuilt recursively', () => {
    const inner = new SgError('SG_ERR_MODEL_TIMEOUT', 'slow', { endpoint: 'a' });
    const outer = new SgError('SG_ERR_MODEL_RUNNER', 'runner failed', { cause: inner });
    const back = roundTrip(outer) as SgError;
    expect(back.cause).toBeInstanceOf(SgError);
    expect((back.cause as SgError).code).toBe('SG_ERR_MODEL_TIMEOUT');
    expect(back.status).toBe(504);
  });

  test.each([
    ['TypeError', TypeError],
    ['RangeError', RangeError],
    ['SyntaxError', SyntaxError],
    ['ReferenceError', ReferenceError],
    ['EvalError', EvalError],
    ['URIError', URIError],
    ['Error', Error],
  ])('a %s comes back as one, with message and stack', (name, Ctor) => {
    const err = new Ctor('boom');
    const back = roundTrip(err) as Error;
    expect(back).toBeInstanceOf(Ctor);
    expect(back.name).toBe(name);
    expect(back.message).toBe('boom');
    expect(back.stack).toBe(err.stack);
  });

  test('another Error subclass comes back as an Error with its name; other properties are dropped', () => {
    class CustomError extends Error {
      extra = 1;
      constructor(m: string) {
        super(m);
        this.name = 'CustomError';
      }
    }
    const back = roundTrip(new CustomError('custom')) as Error & { extra?: number };
    expect(back).toBeInstanceOf(Error);
    expect(back.name).toBe('CustomError');
    expect(back.message).toBe('custom');
    expect(back.extra).toBeUndefined();
    expect(String(back)).toBe('CustomError: custom');
  });

  test('plain Error causes and thrown non-errors', () => {
    const back = roundTrip(new Error('outer', { cause: new TypeError('why') })) as Error;
    expect((back.cause as Error).name).toBe('TypeError');
    expect(roundTrip('a string')).toBe('a string');
    expect(roundTrip({ a: 1 })).toEqual({ a: 1 });
    expect(roundTrip(() => 1)).toBe('() => 1');
  });

  test('a cause cycle is cut', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(() => structuredClone(serializeError(a))).not.toThrow();
  });
});

describe('findUncloneable', () => {
  test('names the offending type and where it is', () => {
    expect(findUncloneable({ a: { b: [1, function named() {}] } })).toEqual({
      type: 'a function (named)',
      at: '.a.b[1]',
    });
    expect(findUncloneable({ p: Promise.resolve() })).toEqual({ type: 'a Promise', at: '.p' });
    expect(findUncloneable({ w: new WeakMap() })).toEqual({ type: 'a WeakMap', at: '.w' });
    expect(findUncloneable({ s: new Set([new WeakSet()]) })?.type).toBe('a WeakSet');
    expect(findUncloneable(Symbol('x'))).toEqual({ type: 'a symbol', at: '' });
    expect(findUncloneable({ ok: new Map([[1, new Date()]]), b: new Uint8Array(2) })).toBeUndefined();
  });
});
