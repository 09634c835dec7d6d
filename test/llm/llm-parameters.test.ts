import { describe, expect, it } from 'vitest';
import { llmParameters } from '../../src/llm/llm-parameters.js';
import { throwsSg } from '../support/core.js';

/** llm.md section 2: LLModel's model parameters onMissingPlaceholder, maxBatchConcurrency, requestConfig. */

const INVALID = 'SG_ERR_INVALID_OPTION';

describe('llmParameters', () => {
  it('gives the defaults', () => {
    expect(llmParameters({}, 'finance')).toEqual({
      onMissingPlaceholder: 'error',
      maxBatchConcurrency: 8,
      requestConfig: [],
    });
  });

  it('reads valid values', () => {
    for (const mode of ['error', 'keep', 'empty'] as const) {
      expect(llmParameters({ onMissingPlaceholder: mode }, 'e').onMissingPlaceholder).toBe(mode);
    }
    expect(llmParameters({ maxBatchConcurrency: 1 }, 'e').maxBatchConcurrency).toBe(1);
    expect(llmParameters({ maxBatchConcurrency: 64 }, 'e').maxBatchConcurrency).toBe(64);
    expect(llmParameters({ requestConfig: ['temperature', 'max_tokens'] }, 'e').requestConfig).toEqual([
      'temperature',
      'max_tokens',
    ]);
  });

  it('treats undefined as absent', () => {
    expect(
      llmParameters({ onMissingPlaceholder: undefined, maxBatchConcurrency: undefined, requestConfig: undefined }, 'e'),
    ).toEqual({ onMissingPlaceholder: 'error', maxBatchConcurrency: 8, requestConfig: [] });
  });

  it('leaves other keys to subclasses', () => {
    expect(() => llmParameters({ myOwnParameter: 1 }, 'e')).not.toThrow();
  });

  it('copies requestConfig', () => {
    const list = ['temperature'];
    const p = llmParameters({ requestConfig: list }, 'e');
    list.push('seed');
    expect(p.requestConfig).toEqual(['temperature']);
  });

  it('rejects a bad onMissingPlaceholder', () => {
    for (const bad of ['x', 'ERROR', '', 1, true]) {
      const err = throwsSg(() => llmParameters({ onMissingPlaceholder: bad }, 'finance'), INVALID);
      expect(err.details.field).toBe('modelParameters.onMissingPlaceholder');
      expect(err.message).toContain('finance');
      expect(err.message).toContain('onMissingPlaceholder');
    }
  });

  it('rejects a maxBatchConcurrency that is not an integer >= 1', () => {
    for (const bad of [0, 1.5, -1, '8', Number.NaN, Number.POSITIVE_INFINITY]) {
      const err = throwsSg(() => llmParameters({ maxBatchConcurrency: bad }, 'finance'), INVALID);
      expect(err.details.field).toBe('modelParameters.maxBatchConcurrency');
      expect(err.message).toContain('maxBatchConcurrency');
    }
  });

  it('rejects a requestConfig that is not a list of keys', () => {
    for (const bad of ['temperature', { temperature: true }, [1], [''], [null]]) {
      const err = throwsSg(() => llmParameters({ requestConfig: bad }, 'finance'), INVALID);
      expect(err.details.field).toBe('modelParameters.requestConfig');
    }
  });

  it("rejects a requestConfig listing 'stream'", () => {
    for (const bad of [['stream'], ['temperature', 'stream']]) {
      const err = throwsSg(() => llmParameters({ requestConfig: bad }, 'finance'), INVALID);
      expect(err.details.field).toBe('modelParameters.requestConfig');
      expect(err.message).toContain('stream');
    }
  });

  it('names the step when given', () => {
    const err = throwsSg(() => llmParameters({ maxBatchConcurrency: 0 }, 'finance', 'runner'), INVALID);
    expect(err.message).toContain('runner');
    expect(err.step).toBe('runner');
    expect(err.endpoint).toBe('finance');
  });
});
