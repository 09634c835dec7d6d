import { afterEach, describe, expect, test } from 'vitest';
import { Choice, createGraph, type Event, Filter, FlatMap, MapStep, type MockServer, Step } from '../../src/index.js';
import { mixedLoad, quietServer, rejectsSg, throwsSg } from '../support/core.js';

const servers: MockServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A server for one MapStep (the responder) with the given options. */
function single(options: Record<string, unknown>, handler: (x: never) => unknown = (x) => x) {
  const g = createGraph();
  g.to(new MapStep({ name: 'step', handler, ...options })).respond();
  const s = quietServer(g);
  servers.push(s);
  return s;
}

describe('path options at construction', () => {
  test('strings split on dots, arrays give the segments', () => {
    const s = new MapStep({ handler: (x) => x, inputPath: 'data.features', resultPath: ['a.b', 'c'] });
    expect(s.inputPath?.segments).toEqual(['data', 'features']);
    expect(s.resultPath?.segments).toEqual(['a.b', 'c']);
  });

  test('empty segments, forbidden segments and wrong types throw SG_ERR_INVALID_OPTION', () => {
    const bad: unknown[] = [
      '',
      'a..b',
      '.a',
      'a.',
      [],
      ['a', ''],
      '__proto__',
      'a.__proto__',
      ['constructor'],
      'x.prototype.y',
      5,
      ['a', 1],
      { a: 1 },
      null,
    ];
    for (const field of ['inputPath', 'resultPath']) {
      for (const value of bad) {
        const err = throwsSg(
          () => new MapStep({ name: 's', handler: (x) => x, [field]: value }),
          'SG_ERR_INVALID_OPTION',
        );
        expect(err.step).toBe('s');
        expect(err.details.field).toBe(field);
      }
    }
    throwsSg(() => new Filter({ handler: () => true, inputPath: 'a..b' }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new FlatMap({ handler: () => [], resultPath: '__proto__' }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new Choice({ handler: () => [], inputPath: ['prototype'] }), 'SG_ERR_INVALID_OPTION');
  });

  test('fullEvent with inputPath or resultPath throws SG_ERR_INVALID_OPTION', () => {
    const h = (x: unknown) => x;
    throwsSg(() => new MapStep({ handler: h, fullEvent: true, inputPath: 'a' }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new MapStep({ handler: h, fullEvent: true, resultPath: 'a' }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new FlatMap({ handler: () => [], fullEvent: true, resultPath: 'a' }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new Filter({ handler: h, fullEvent: true, inputPath: 'a' }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new Choice({ handler: () => [], fullEvent: true, inputPath: 'a' }), 'SG_ERR_INVALID_OPTION');
    class User extends Step {
      override do(x: unknown) {
        return x;
      }
    }
    throwsSg(() => new User({ fullEvent: true, inputPath: 'a' }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new MapStep({ handler: h, fullEvent: 'yes' as never }), 'SG_ERR_INVALID_OPTION');
  });
});

describe('reading at inputPath', () => {
  test('the example of graph.md section 5', async () => {
    const s = single({ inputPath: 'x', resultPath: 'y.z' }, (x: number) => x * 2);
    expect(await s.test('/', { x: 5 })).toEqual({ x: 5, y: { z: 10 } });
  });

  test('nested keys, array segments, digits on arrays and digits as object keys', async () => {
    const s = single({ inputPath: 'a.b' });
    expect(await s.test('/', { a: { b: { c: 1 } } })).toEqual({ c: 1 });
    const arr = single({ inputPath: 'items.1.name' });
    expect(await arr.test('/', { items: [{ name: 'x' }, { name: 'y' }] })).toBe('y');
    const keyed = single({ inputPath: 'items.1' });
    expect(await keyed.test('/', { items: { '1': 'one' } })).toBe('one');
    const top = single({ inputPath: '0' });
    expect(await top.test('/', ['first', 'second'])).toBe('first');
    const dotted = single({ inputPath: ['a.b', 'c'] });
    expect(await dotted.test('/', { 'a.b': { c: 3 }, a: { b: { c: 4 } } })).toBe(3);
  });

  test('a missing path, or one through null or a primitive, gives undefined', async () => {
    const seen: unknown[] = [];
    const s = single({ inputPath: 'a.b.c' }, (x: unknown) => {
      seen.push(x);
      return 'ok';
    });
    for (const body of [{}, { a: null }, { a: 5 }, { a: { b: 'str' } }, { a: [] }, [], { a: { b: { d: 1 } } }]) {
      expect(await s.test('/', body)).toBe('ok');
    }
    expect(seen).toEqual(Array(7).fill(undefined));
    // inherited properties are not read
    const proto = single({ inputPath: 'toString' });
    expect(await proto.test('/', {})).toBeUndefined();
  });

  test('a body that is not an object or array fails the event with SG_ERR_PATH_TARGET (400)', async () => {
    const s = single({ inputPath: 'a' });
    for (const body of [5, 'text', true, null, undefined]) {
      const err = await rejectsSg(s.test('/', body), 'SG_ERR_PATH_TARGET');
      expect(err.step).toBe('step');
      expect(err.status).toBe(400);
      expect(err.details).toMatchObject({ path: 'a', field: 'inputPath' });
    }
    expect(await s.test('/', { a: 1 })).toBe(1);
  });
});

describe('writing at resultPath', () => {
  test('writes in place, creating missing intermediate objects', async () => {
    const s = single({ resultPath: 'out.deep.value' }, () => 42);
    expect(await s.test('/', { keep: 1 })).toEqual({ keep: 1, out: { deep: { value: 42 } } });
    expect(await s.test('/', { out: { other: 1 } })).toEqual({ out: { other: 1, deep: { value: 42 } } });
  });

  test('digits index arrays, and are keys on objects; intermediate arrays are kept', async () => {
    const s = single({ resultPath: 'list.1' }, () => 'B');
    expect(await s.test('/', { list: ['a', 'b', 'c'] })).toEqual({ list: ['a', 'B', 'c'] });
    expect(await s.test('/', { list: { x: 1 } })).toEqual({ list: { x: 1, '1': 'B' } });
    expect(await s.test('/', {})).toEqual({ list: { '1': 'B' } });
    const top = single({ resultPath: '0' }, () => 'z');
    expect(await top.test('/', ['a'])).toEqual(['z']);
  });

  test('an undefined result is written as is: the key exists', async () => {
    let body: Record<string, unknown> | undefined;
    const g = createGraph();
    g.to(new MapStep({ name: 'w', handler: () => undefined, resultPath: 'r' })).to(
      new MapStep({
        name: 'check',
        fullEvent: true,
        handler: (ev: Event) => {
          body = ev.body as Record<string, unknown>;
          return ev;
        },
      }),
    );
    const s = quietServer(g);
    servers.push(s);
    await s.test('/', { a: 1 });
    expect(body).toBeDefined();
    expect(Object.hasOwn(body!, 'r')).toBe(true);
    expect(body!.r).toBeUndefined();
  });

  test('a primitive body, or a path through a primitive or null, fails with SG_ERR_PATH_TARGET', async () => {
    const s = single({ resultPath: 'a.b' }, () => 1);
    for (const body of [3, 'x', null, { a: 5 }, { a: 'str' }, { a: null }, { a: true }]) {
      const err = await rejectsSg(s.test('/', body), 'SG_ERR_PATH_TARGET');
      expect(err.details).toMatchObject({ path: 'a.b', field: 'resultPath' });
      expect(err.step).toBe('step');
    }
    expect(await s.test('/', { a: {} })).toEqual({ a: { b: 1 } });
  });

  test('path failures touch only their own events; the graph keeps serving', async () => {
    const s = single({ inputPath: 'v', resultPath: 'out' }, async (v: number) => {
      await new Promise((r) => setTimeout(r, v % 3));
      return v * 2;
    });
    await mixedLoad(
      s,
      60,
      (i) => (i % 4 === 0 ? i : { v: i }),
      (i) => i % 4 === 0,
      'SG_ERR_PATH_TARGET',
      (i) => ({ v: i, out: i * 2 }),
    );
    expect(await s.test('/', { v: 1 })).toEqual({ v: 1, out: 2 });
  });
});
