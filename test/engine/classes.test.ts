import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  Batch,
  Choice,
  createGraph,
  Filter,
  FlatMap,
  MapStep,
  registerClass,
  SgError,
  Step,
  type StepContext,
} from '../../src/index.js';
import { resolveReference } from '../../src/registry/registry.js';
import { quietServer, rejectsSg, throwsSg, useServers } from '../support/core.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'refs');
const serve = useServers();

describe('user-defined steps (graph.md section 8)', () => {
  test('init() runs once before ready, do() serves every event, close() runs at close', async () => {
    const log: string[] = [];
    class Enrich extends Step<{ text: string }, { text: string }> {
      readonly suffix: string;
      dict: Map<string, string> | undefined;
      constructor(options: { name?: string; suffix?: string; resultPath?: string }) {
        super(options);
        this.suffix = options.suffix ?? '!';
      }
      async init() {
        await new Promise((r) => setTimeout(r, 5));
        this.dict = new Map([['hi', 'hello']]);
        log.push('init');
      }
      override do(body: { text: string }, ctx: StepContext) {
        expect(ctx.event.body).toBe(body);
        return { text: (this.dict?.get(body.text) ?? body.text) + this.suffix };
      }
      async close() {
        log.push('close');
      }
    }
    const g = createGraph();
    const step = new Enrich({ name: 'enrich', suffix: '?' });
    expect(step._params).toEqual({ suffix: '?' });
    g.to(step).respond();
    const server = quietServer(g);
    await server.ready();
    expect(log).toEqual(['init']);
    const replies = await Promise.all(['hi', 'yo', 'hi'].map((text) => server.test('/', { text })));
    expect(replies).toEqual([{ text: 'hello?' }, { text: 'yo?' }, { text: 'hello?' }]);
    await server.close();
    expect(log).toEqual(['init', 'close']);
  });

  test('a user step follows the MapStep contract: inputPath, resultPath, fullEvent, async do', async () => {
    class Upper extends Step {
      override async do(s: unknown) {
        return String(s).toUpperCase();
      }
    }
    const g = createGraph();
    g.to(new Upper({ name: 'up', inputPath: 'q', resultPath: 'a.q' })).respond();
    expect(await serve(g).test('/', { q: 'x' })).toEqual({ q: 'x', a: { q: 'X' } });
  });

  test('init() failure rejects ready() with SG_ERR_STEP_INIT; started steps are closed; the graph is free', async () => {
    const log: string[] = [];
    class Ok extends Step {
      async init() {
        log.push('ok:init');
      }
      override do(b: unknown) {
        return b;
      }
      async close() {
        log.push('ok:close');
      }
    }
    class Broken extends Step {
      async init() {
        throw new RangeError('no dictionary');
      }
      override do(b: unknown) {
        return b;
      }
      async close() {
        log.push('broken:close');
      }
    }
    const g = createGraph();
    g.to(new Ok({ name: 'ok' }))
      .to(new Broken({ name: 'broken' }))
      .respond();
    const server = quietServer(g);
    const err = await rejectsSg(server.ready(), 'SG_ERR_STEP_INIT');
    expect(err.step).toBe('broken');
    expect(err.cause).toBeInstanceOf(RangeError);
    expect(err.message).toContain('no dictionary');
    // test() rejects with the start-up error; close() resolves
    const again = await rejectsSg(server.test('/', 1), 'SG_ERR_STEP_INIT');
    expect(again).toBe(err);
    await server.close();
    expect(log).toEqual(['ok:init', 'ok:close']);
    // the server shut itself down: the graph can be changed and served again
    expect(() => g.setStreaming(false)).not.toThrow();
    const second = quietServer(g);
    await rejectsSg(second.ready(), 'SG_ERR_STEP_INIT');
  });

  test('an SgError thrown by init() rejects ready() as it is, with step filled', async () => {
    class Creds extends Step {
      init() {
        throw new SgError('SG_ERR_PROVIDER_CREDENTIALS', 'no API key', { details: { env: 'KEY' } });
      }
      override do(b: unknown) {
        return b;
      }
    }
    const g = createGraph();
    g.to(new Creds({ name: 'creds' }));
    const err = await rejectsSg(quietServer(g).ready(), 'SG_ERR_PROVIDER_CREDENTIALS');
    expect(err.step).toBe('creds');
    expect(err.details).toEqual({ env: 'KEY' });
  });

  test('close() hook errors are logged, not thrown', async () => {
    class Leaky extends Step {
      override do(b: unknown) {
        return b;
      }
      async close() {
        throw new Error('close failed');
      }
    }
    const g = createGraph();
    g.to(new Leaky({ name: 'leaky' })).respond();
    const server = quietServer(g);
    expect(await server.test('/', 1)).toBe(1);
    await expect(server.close()).resolves.toBeUndefined();
  });

  test('a user step without do() fails start-up with SG_ERR_INVALID_CLASS', async () => {
    class NoDo extends Step {}
    const g = createGraph();
    g.to(new NoDo({ name: 'nodo' }));
    const err = await rejectsSg(quietServer(g).ready(), 'SG_ERR_INVALID_CLASS');
    expect(err.step).toBe('nodo');
  });

  test('a user step rejects bad common options', () => {
    class S extends Step {
      override do(b: unknown) {
        return b;
      }
    }
    throwsSg(() => new S(null as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new S({ fullEvent: 1 as never }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new S({ streaming: 'no' as never }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new S({ collect: 1 as never }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new S({ name: 'a b' }), 'SG_ERR_INVALID_OPTION');
  });
});

describe('registerClass (graph.md section 12)', () => {
  test('name rules and target kinds', () => {
    for (const name of ['', '.x', '/x', 'a#b', 'a b', ' x', 5]) {
      throwsSg(() => registerClass(name as string, () => 1), 'SG_ERR_INVALID_OPTION');
    }
    for (const target of [5, 'no-hash', null, {}]) {
      throwsSg(() => registerClass('reg-target', target), 'SG_ERR_INVALID_OPTION');
    }
    throwsSg(() => registerClass('reg-opt', () => 1, { modul: 'x' } as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => registerClass('reg-opt', () => 1, { module: '' }), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => registerClass('reg-opt', () => 1, { exportName: 3 as never }), 'SG_ERR_INVALID_OPTION');
    expect(() => registerClass('reg.ok-name_1', () => 1)).not.toThrow();
    expect(() => registerClass('reg-module-ref', './x.js#X')).not.toThrow();
  });

  test('the same target twice is fine; another target throws SG_ERR_DUPLICATE_CLASS unless override', async () => {
    const one = (x: number) => x + 1;
    const two = (x: number) => x + 2;
    registerClass('reg-dup', one);
    expect(() => registerClass('reg-dup', one)).not.toThrow();
    const err = throwsSg(() => registerClass('reg-dup', two), 'SG_ERR_DUPLICATE_CLASS');
    expect(err.message).toContain('reg-dup');
    expect(await resolveReference('reg-dup', '/')).toBe(one);
    registerClass('reg-dup', two, { override: true });
    expect(await resolveReference('reg-dup', '/')).toBe(two);
  });

  test('built-in names cannot be replaced, even with override', () => {
    for (const name of ['MapStep', 'Filter', 'FlatMap', 'Choice', 'Batch']) {
      throwsSg(() => registerClass(name, () => 1), 'SG_ERR_DUPLICATE_CLASS');
      throwsSg(() => registerClass(name, () => 1, { override: true }), 'SG_ERR_DUPLICATE_CLASS');
    }
  });

  test('built-ins and their porting names resolve to the built-in classes', async () => {
    expect(await resolveReference('MapStep', '/')).toBe(MapStep);
    expect(await resolveReference('storey.Filter', '/')).toBe(Filter);
    expect(await resolveReference('storey.FlatMap', '/')).toBe(FlatMap);
    expect(await resolveReference('mlrun.serving.states.Choice', '/')).toBe(Choice);
    expect(await resolveReference('storey.Batch', '/')).toBe(Batch);
    // only built-ins have porting names; names are case-sensitive
    registerClass('MyOwn', () => 1);
    await rejectsSg(resolveReference('storey.MyOwn', '/'), 'SG_ERR_UNKNOWN_CLASS');
    await rejectsSg(resolveReference('storey.Nope', '/'), 'SG_ERR_UNKNOWN_CLASS');
    await rejectsSg(resolveReference('mapstep', '/'), 'SG_ERR_UNKNOWN_CLASS');
  });
});

describe('handler references resolved at start-up', () => {
  const graphWith = (handler: string, baseDir = FIXTURES) => {
    const g = createGraph({ baseDir });
    g.to(new MapStep({ name: 'h', handler })).respond();
    return g;
  };

  test('module#export relative to baseDir, default, absolute paths and file: URLs', async () => {
    expect(await serve(graphWith('./handlers.mjs#double')).test('/', 21)).toBe(42);
    expect(await serve(graphWith('./handlers.mjs#shout')).test('/', 'hi')).toBe('HI!');
    expect(await serve(graphWith('./handlers.mjs#default')).test('/', 'same')).toBe('same');
    expect(await serve(graphWith('./refs/handlers.mjs#double', join(FIXTURES, '..'))).test('/', 1)).toBe(2);
    expect(await serve(graphWith(`${join(FIXTURES, 'handlers.mjs')}#double`, '/')).test('/', 2)).toBe(4);
    const url = pathToFileURL(join(FIXTURES, 'handlers.mjs')).href;
    expect(await serve(graphWith(`${url}#double`, '/')).test('/', 3)).toBe(6);
  });

  test('registered names, including a module#Export target, for every handler step', async () => {
    registerClass('refs-double', (x: number) => x * 2);
    registerClass('refs-shout', './handlers.mjs#shout');
    registerClass('refs-keep', (x: unknown) => Array.isArray(x));
    registerClass('refs-split', (x: number[]) => x);
    registerClass('refs-route', () => 'r');
    expect(await serve(graphWith('refs-double')).test('/', 4)).toBe(8);
    expect(await serve(graphWith('refs-shout')).test('/', 'a')).toBe('A!');
    const g = createGraph({ baseDir: FIXTURES });
    g.to(new Filter({ name: 'keep', handler: 'refs-keep' }))
      .to(new FlatMap({ name: 'split', handler: 'refs-split' }))
      .to(new Choice({ name: 'route', handler: 'refs-route' }))
      .to(new MapStep({ name: 'r', handler: 'refs-double' }))
      .respond();
    const server = serve(g);
    expect(await server.test('/', [5, 6])).toBe(10);
  });

  test('an unknown name or a missing export: SG_ERR_UNKNOWN_CLASS', async () => {
    const err = await rejectsSg(serve(graphWith('refs-never-registered')).ready(), 'SG_ERR_UNKNOWN_CLASS');
    expect(err.step).toBe('h');
    expect(err.message).toContain('refs-never-registered');
    const missing = await rejectsSg(serve(graphWith('./handlers.mjs#nothing')).ready(), 'SG_ERR_UNKNOWN_CLASS');
    expect(missing.message).toContain('nothing');
    await rejectsSg(serve(graphWith('./handlers.mjs#')).ready(), 'SG_ERR_UNKNOWN_CLASS');
  });

  test('a module that cannot be imported: SG_ERR_MODULE_LOAD with the import error as cause', async () => {
    const err = await rejectsSg(serve(graphWith('./no-such-module.mjs#x')).ready(), 'SG_ERR_MODULE_LOAD');
    expect(err.step).toBe('h');
    expect(err.cause).toBeInstanceOf(Error);
    expect(err.details.module).toBe('./no-such-module.mjs');
    const broken = await rejectsSg(serve(graphWith('./broken-module.mjs#x')).ready(), 'SG_ERR_MODULE_LOAD');
    expect((broken.cause as Error).message).toBe('broken on purpose');
    await rejectsSg(serve(graphWith('no-such-package-xyz#x')).ready(), 'SG_ERR_MODULE_LOAD');
  });

  test('a reference that is not a function: SG_ERR_INVALID_CLASS', async () => {
    const err = await rejectsSg(serve(graphWith('./handlers.mjs#notAFunction')).ready(), 'SG_ERR_INVALID_CLASS');
    expect(err.step).toBe('h');
    await rejectsSg(serve(graphWith('./handlers.mjs#NotAHandler')).ready(), 'SG_ERR_INVALID_CLASS');
    await rejectsSg(serve(graphWith('MapStep')).ready(), 'SG_ERR_INVALID_CLASS');
    await rejectsSg(serve(graphWith('storey.Filter')).ready(), 'SG_ERR_INVALID_CLASS');
  });

  test('a failed start-up rejects test() with the start-up error, and nothing runs', async () => {
    const server = serve(graphWith('refs-missing-at-test'));
    await rejectsSg(server.test('/', 1), 'SG_ERR_UNKNOWN_CLASS');
    await rejectsSg(server.test('/', 2), 'SG_ERR_UNKNOWN_CLASS');
  });
});
