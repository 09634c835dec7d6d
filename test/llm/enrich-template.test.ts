import { describe, expect, it } from 'vitest';
import { enrich } from '../../src/llm/enrich.js';
import { parseTemplate, placeholderNames, renderValue } from '../../src/llm/template.js';
import { deepFreeze, only, prompt, settings } from './enrich-support.js';

/** llm.md section 2.2: placeholder syntax, value lookup and rendering. */

const fill = (template: string, input: unknown, legend = {}) =>
  only(enrich(input, prompt(template, legend), settings()).messages);

describe('parseTemplate', () => {
  it('splits text and placeholders', () => {
    expect(parseTemplate('Hi {name}!')).toEqual(['Hi ', { name: 'name' }, '!']);
    expect(parseTemplate('{a}{b}')).toEqual([{ name: 'a' }, { name: 'b' }]);
    expect(parseTemplate('{_x1} and {Y_2}')).toEqual([{ name: '_x1' }, ' and ', { name: 'Y_2' }]);
  });

  it('gives one literal part for text without placeholders, including empty text', () => {
    expect(parseTemplate('no placeholders')).toEqual(['no placeholders']);
    expect(parseTemplate('')).toEqual(['']);
  });

  it('turns {{ and }} into literal braces', () => {
    expect(parseTemplate('{{name}}')).toEqual(['{name}']);
    expect(parseTemplate('a }} b {{')).toEqual(['a } b {']);
    expect(parseTemplate('{{{name}}}')).toEqual(['{', { name: 'name' }, '}']);
  });

  it('leaves other brace text as written', () => {
    for (const text of ['{ x }', '{1}', '{1x}', '{x-y}', '{}', '{"a": 1}', '{name', 'name}', '{ name}', '{name }']) {
      expect(parseTemplate(text), text).toEqual([text]);
    }
  });

  it('lists placeholder names once, in order of first use', () => {
    expect(placeholderNames(parseTemplate('{b} {a} {b} {{c}} {a}'))).toEqual(['b', 'a']);
  });
});

describe('renderValue', () => {
  it('renders strings, scalars and objects', () => {
    expect(renderValue('text')).toBe('text');
    expect(renderValue(3.5)).toBe('3.5');
    expect(renderValue(0)).toBe('0');
    expect(renderValue(true)).toBe('true');
    expect(renderValue(false)).toBe('false');
    expect(renderValue(12345678901234567890n)).toBe('12345678901234567890');
    expect(renderValue({ a: 1, b: [true] })).toBe('{"a":1,"b":[true]}');
    expect(renderValue([1, 'two'])).toBe('[1,"two"]');
  });
});

describe('placeholders', () => {
  it('fills placeholders from top-level keys', () => {
    expect(fill('Hello {name}, you are {age}.', { name: 'Ana', age: 31 })).toBe('Hello Ana, you are 31.');
  });

  it('fills placeholders from legend dotted paths', () => {
    const legend = { name: { field: 'client.name', description: 'Display name' }, question: { field: 'q' } };
    const input = { q: 'Are rates going up?', client: { name: 'Ana' }, name: 'not this one' };
    expect(fill('Client {name} asks: {question}', input, legend)).toBe('Client Ana asks: Are rates going up?');
  });

  it("matches the spec's example", () => {
    const p = prompt(
      [
        { role: 'system', content: 'You are a careful financial analyst.' },
        { role: 'user', content: 'Client {name} asks: {question}' },
      ],
      { name: { field: 'client.name', description: 'Display name of the client' }, question: { field: 'q' } },
    );
    const out = enrich({ q: 'Are rates going up?', client: { name: 'Ana' } }, p, settings());
    expect(out.messages).toEqual([
      { role: 'system', content: 'You are a careful financial analyst.' },
      { role: 'user', content: 'Client Ana asks: Are rates going up?' },
    ]);
  });

  it('reads deeper paths, and array items by index', () => {
    const legend = { city: { field: 'trip.to.city' }, first: { field: 'items.0.name' } };
    const input = { trip: { to: { city: 'Lima' } }, items: [{ name: 'tent' }] };
    expect(fill('{city}: {first}', input, legend)).toBe('Lima: tent');
  });

  it('uses the placeholder name when a legend entry has no field', () => {
    expect(fill('Hi {name}', { name: 'Bo' }, { name: { description: 'Who' } })).toBe('Hi Bo');
  });

  it('gives the same placeholder the same value in every message', () => {
    const p = prompt([
      { role: 'system', content: 'Speak to {name}.' },
      { role: 'user', content: '{name} says hi to {name}' },
    ]);
    const out = enrich({ name: 'Ana' }, p, settings());
    expect(out.messages.map((m) => m.content)).toEqual(['Speak to Ana.', 'Ana says hi to Ana']);
  });

  it('gives literal braces for {{ and }}', () => {
    expect(fill('{{name}} is {name}; }} and {{', { name: 'Ana' })).toBe('{name} is Ana; } and {');
    expect(fill('{{{name}}}', { name: 'Ana' })).toBe('{Ana}');
  });

  it('leaves JSON examples, { x } and {1} as written', () => {
    const template = 'Answer as {"answer": "...", "n": 1} about {topic}; not { x }, {1} or {}.';
    expect(fill(template, { topic: 'rates', x: 'X' })).toBe(
      'Answer as {"answer": "...", "n": 1} about rates; not { x }, {1} or {}.',
    );
  });

  it('never scans inserted text again: a value holding {x} stays literal', () => {
    expect(fill('A {a} B {b}', { a: '{b}', b: '{{x}}' })).toBe('A {b} B {{x}}');
    expect(fill('{a}', { a: '{a}' })).toBe('{a}');
  });

  it('does not format roles and names', () => {
    const p = prompt([{ role: '{role}', content: 'Hi {who}', name: '{who}' }]);
    const out = enrich({ role: 'system', who: 'Ana' }, p, settings());
    expect(out.messages).toEqual([{ role: '{role}', content: 'Hi Ana', name: '{who}' }]);
  });

  it('asks for no value for a placeholder that only a role or name holds', () => {
    const p = prompt([{ role: '{role}', content: 'plain', name: '{n}' }]);
    expect(enrich({}, p, settings()).messages).toEqual([{ role: '{role}', content: 'plain', name: '{n}' }]);
  });
});

describe('rendering', () => {
  it('renders numbers, booleans and bigints with String()', () => {
    expect(fill('{a}|{b}|{c}|{d}|{e}', { a: 42, b: -0.5, c: true, d: 9007199254740993n, e: 1e21 })).toBe(
      '42|-0.5|true|9007199254740993|1e+21',
    );
  });

  it('renders objects and arrays as JSON', () => {
    expect(fill('{o} {a}', { o: { x: 1, y: 'z' }, a: [1, { b: null }] })).toBe('{"x":1,"y":"z"} [1,{"b":null}]');
  });

  it('takes 0, false and empty strings as values', () => {
    expect(fill('[{zero}][{no}][{empty}]', { zero: 0, no: false, empty: '' })).toBe('[0][false][]');
  });

  it('takes 0 and "" read through a legend path as values', () => {
    expect(fill('{n}/{s}', { a: { n: 0, s: '' } }, { n: { field: 'a.n' }, s: { field: 'a.s' } })).toBe('0/');
  });

  it('treats null and undefined as missing', () => {
    const s = settings({ onMissing: 'empty' });
    expect(only(enrich({ a: null, b: undefined }, prompt('<{a}><{b}>'), s).messages)).toBe('<><>');
  });

  it('keeps strings as they are, with no quoting or escaping', () => {
    expect(fill('{s}', { s: 'line\n"quoted" \\ tab\t' })).toBe('line\n"quoted" \\ tab\t');
  });
});

describe('enrichment of a frozen input', () => {
  it('reads the input without mutating it', () => {
    const input = deepFreeze({ q: 'Why?', client: { name: 'Ana', tags: ['a'] }, temperature: 0.2 });
    const before = structuredClone(input);
    const p = prompt('Client {name} asks {q} {tags}', {
      name: { field: 'client.name' },
      tags: { field: 'client.tags' },
    });
    const out = enrich(input, p, settings({ requestConfig: ['temperature'] }));
    expect(only(out.messages)).toBe('Client Ana asks Why? ["a"]');
    expect(input).toEqual(before);
  });
});
