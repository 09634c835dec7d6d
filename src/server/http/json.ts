import { SgError } from '../../errors/index.js';

/**
 * Parse a JSON request body: SG_ERR_BAD_JSON with the parser's position when it does not parse, or when it
 * holds a `__proto__` key or a `constructor` key holding `prototype` (such bodies never reach a step).
 */
export function parseJsonBody(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badJson(text, err);
  }
  rejectForbiddenKeys(text, value);
  return value;
}

/** JSON.parse, or `notJson` when the text is not JSON; forbidden keys still fail with SG_ERR_BAD_JSON. */
export function parseJsonIfValid(text: string, notJson: (text: string) => unknown): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return notJson(text);
  }
  rejectForbiddenKeys(text, value);
  return value;
}

function badJson(text: string, cause: unknown): SgError {
  const at = locateJsonError(text);
  // V8's messages do not always give a position; our own scan does, and agrees with JSON's grammar
  const where =
    at === undefined
      ? cause instanceof Error
        ? cause.message
        : String(cause)
      : `unexpected ${at.found} at position ${at.position}`;
  return new SgError('SG_ERR_BAD_JSON', `request body is not valid JSON: ${where}`, {
    details: at === undefined ? {} : { position: at.position },
    cause,
  });
}

function rejectForbiddenKeys(text: string, value: unknown): void {
  // such keys need these words in the text, or a \u escape spelling them
  if (!text.includes('__proto__') && !text.includes('constructor') && !text.includes('\\u')) return;
  const key = findForbiddenKey(value);
  if (key !== undefined) {
    throw new SgError(
      'SG_ERR_BAD_JSON',
      `request body is not accepted: it holds a '${key}' key, which could change object prototypes`,
      { details: { key } },
    );
  }
}

/** The first `__proto__` key, or `constructor` key holding a `prototype` key, anywhere in `root`. */
function findForbiddenKey(root: unknown): string | undefined {
  const todo: unknown[] = [root];
  while (todo.length > 0) {
    const v = todo.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const item of v) todo.push(item);
      continue;
    }
    const record = v as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (key === '__proto__') return '__proto__';
      const child = record[key];
      if (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) {
        return 'constructor.prototype';
      }
      todo.push(child);
    }
  }
  return undefined;
}

/** Where a JSON text first breaks the grammar (RFC 8259), and what was found there. */
export function locateJsonError(text: string): { position: number; found: string } | undefined {
  const n = text.length;
  const stack: string[] = []; // '{' or '['
  let state: 'value' | 'firstValue' | 'firstKey' | 'key' | 'colon' | 'after' = 'value';
  let i = 0;
  const fail = (at: number) => ({ position: at, found: at >= n ? 'end of input' : describeChar(text[at]) });
  for (;;) {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
    if (i >= n) return state === 'after' && stack.length === 0 ? undefined : fail(n);
    const ch = text[i];
    switch (state) {
      case 'firstValue':
        if (ch === ']') {
          stack.pop();
          i++;
          state = 'after';
        } else state = 'value';
        break;
      case 'firstKey':
        if (ch === '}') {
          stack.pop();
          i++;
          state = 'after';
        } else state = 'key';
        break;
      case 'key': {
        if (ch !== '"') return fail(i);
        const end = scanString(text, i);
        if (end < 0) return fail(-end - 1);
        i = end;
        state = 'colon';
        break;
      }
      case 'colon':
        if (ch !== ':') return fail(i);
        i++;
        state = 'value';
        break;
      case 'after': {
        const top = stack[stack.length - 1];
        if (top === undefined) return fail(i);
        if (ch === ',') {
          i++;
          state = top === '{' ? 'key' : 'value';
        } else if (ch === (top === '{' ? '}' : ']')) {
          stack.pop();
          i++;
        } else return fail(i);
        break;
      }
      case 'value': {
        let end: number;
        if (ch === '{' || ch === '[') {
          stack.push(ch);
          i++;
          state = ch === '{' ? 'firstKey' : 'firstValue';
          break;
        }
        if (ch === '"') end = scanString(text, i);
        else if (ch === '-' || (ch >= '0' && ch <= '9')) end = scanNumber(text, i);
        else if (ch === 't') end = scanWord(text, i, 'true');
        else if (ch === 'f') end = scanWord(text, i, 'false');
        else if (ch === 'n') end = scanWord(text, i, 'null');
        else return fail(i);
        if (end < 0) return fail(-end - 1);
        i = end;
        state = 'after';
        break;
      }
    }
  }
}

// The scanners return the index after the token, or -(position of the error) - 1.

function scanString(text: string, start: number): number {
  let j = start + 1;
  for (;;) {
    if (j >= text.length) return -j - 1;
    const c = text.charCodeAt(j);
    if (c === 0x22) return j + 1;
    if (c < 0x20) return -j - 1;
    if (c !== 0x5c) {
      j++;
      continue;
    }
    const e = text[j + 1];
    if (e === undefined) return -(j + 1) - 1;
    if (e === 'u') {
      for (let k = j + 2; k < j + 6; k++) if (!/[0-9a-fA-F]/.test(text[k] ?? '')) return -k - 1;
      j += 6;
    } else if ('"\\/bfnrt'.includes(e)) j += 2;
    else return -(j + 1) - 1;
  }
}

function scanNumber(text: string, start: number): number {
  let j = start;
  const digits = (): boolean => {
    const from = j;
    while (j < text.length && text[j] >= '0' && text[j] <= '9') j++;
    return j > from;
  };
  if (text[j] === '-') j++;
  if (text[j] === '0') j++;
  else if (!digits()) return -j - 1;
  if (text[j] === '.') {
    j++;
    if (!digits()) return -j - 1;
  }
  if (text[j] === 'e' || text[j] === 'E') {
    j++;
    if (text[j] === '+' || text[j] === '-') j++;
    if (!digits()) return -j - 1;
  }
  return j;
}

function scanWord(text: string, start: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (text[start + k] !== word[k]) return -(start + k) - 1;
  return start + word.length;
}

function describeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  return code < 0x20 || code === 0x7f ? `U+${code.toString(16).toUpperCase().padStart(4, '0')}` : `'${ch}'`;
}
