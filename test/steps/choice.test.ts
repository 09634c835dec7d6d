import { afterEach, describe, expect, test } from 'vitest';
import { Choice, createGraph, type Event, MapStep, type MockServer, Step, type StepContext } from '../../src/index.js';
import { quietServer, rejectsSg, sleep, throwsSg } from '../support/core.js';

const servers: MockServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** route -> english | french | german, each tagging the body; all merge into the responder. */
// biome-ignore lint/suspicious/noExplicitAny: handlers of any input type
function routed(handler: (input: any, ctx: StepContext) => unknown, extra: Record<string, unknown> = {}) {
  const g = createGraph();
  const reply = new MapStep({ name: 'reply', handler: (b) => b });
  const route = g.to(new Choice({ name: 'route', handler: handler as () => [], ...extra }));
  const branches: Record<string, Step> = {};
  for (const lang of ['english', 'french', 'german']) {
    branches[lang] = route.to(
      new MapStep({
        name: lang,
        handler: async (b: Record<string, unknown>) => {
          await sleep(lang === 'english' ? 5 : 0);
          return { ...b, via: lang };
        },
      }),
    );
    branches[lang].to(reply);
  }
  reply.respond();
  const server = quietServer(g);
  servers.push(server);
  return { server, branches };
}

describe('Choice', () => {
  test('the example of graph.md: a name routes the event unchanged', async () => {
    const { server } = routed((b: { lang: string }) => (b.lang === 'fr' ? 'french' : 'english'));
    expect(await server.test('/', { lang: 'fr' })).toEqual({ lang: 'fr', via: 'french' });
    expect(await server.test('/', { lang: 'en' })).toEqual({ lang: 'en', via: 'english' });
  });

  test('Step objects, arrays, async results, inputPath and fullEvent', async () => {
    let branches: Record<string, Step> = {};
    const viaStep = routed(() => branches.german);
    branches = viaStep.branches;
    expect(await viaStep.server.test('/', {})).toEqual({ via: 'german' });

    // several branches: the first to reach the responder answers (english is slower)
    const many = routed(() => ['english', 'german']);
    expect(await many.server.test('/', {})).toEqual({ via: 'german' });

    const asyncChoice = routed(async () => 'french');
    expect(await asyncChoice.server.test('/', {})).toEqual({ via: 'french' });

    const byPath = routed((lang: string) => lang, { inputPath: 'meta.lang' });
    expect(await byPath.server.test('/', { meta: { lang: 'german' } })).toEqual({
      meta: { lang: 'german' },
      via: 'german',
    });

    const full = routed((ev: Event) => (ev.headers['x-lang'] ?? 'english') as string, { fullEvent: true });
    expect(await full.server.test('/', {}, { headers: { 'X-Lang': 'french' } })).toEqual({ via: 'french' });
  });

  test('[] drops the event: the reply is undefined', async () => {
    const { server } = routed(() => []);
    expect(await server.test('/', {})).toBeUndefined();
  });

  test('every selected branch runs, each with its own copy', async () => {
    const seen: string[] = [];
    const g = createGraph();
    const route = g.to(new Choice({ name: 'route', handler: () => ['b', 'a'] }));
    for (const name of ['a', 'b', 'c']) {
      route.to(
        new MapStep({
          name,
          handler: (body: { list: string[] }) => {
            body.list.push(name);
            seen.push(body.list.join(','));
          },
        }),
      );
    }
    const server = quietServer(g);
    servers.push(server);
    await server.test('/', { list: [] });
    expect(seen).toEqual(['a', 'b']);
  });

  const invalid: Array<[string, unknown]> = [
    ['an unknown name', 'spanish'],
    ['a repeat', ['french', 'french']],
    ['a repeat by name and step', 'REPEAT'],
    ['null', null],
    ['undefined', undefined],
    ['a number', 1],
    ['an array holding null', ['french', null]],
    ['a step that is not downstream', new MapStep({ name: 'elsewhere', handler: (b) => b })],
    ['a step of the same name in another graph', createGraph().to(new MapStep({ name: 'french', handler: (b) => b }))],
    ['the empty string', ''],
    ['an object', { name: 'french' }],
  ];
  for (const [what, result] of invalid) {
    test(`${what}: SG_ERR_CHOICE_INVALID naming the allowed branches`, async () => {
      let branches: Record<string, Step> = {};
      const r = routed(async () => (result === 'REPEAT' ? ['german', branches.german] : result) as never);
      branches = r.branches;
      const err = await rejectsSg(r.server.test('/', {}), 'SG_ERR_CHOICE_INVALID');
      expect(err.step).toBe('route');
      expect(err.status).toBe(500);
      expect(err.details.allowed).toEqual(['english', 'french', 'german']);
      expect(err.message).toContain("'english', 'french', 'german'");
    });
  }

  test('an invalid choice fails only its event; the graph keeps serving', async () => {
    const { server } = routed((b: { i: number }) => (b.i % 3 === 0 ? 'nowhere' : b.i % 3 === 1 ? 'french' : []));
    const results = await Promise.allSettled(Array.from({ length: 45 }, (_, i) => server.test('/', { i })));
    results.forEach((r, i) => {
      if (i % 3 === 0) expect((r as PromiseRejectedResult).reason.code).toBe('SG_ERR_CHOICE_INVALID');
      else expect(r).toEqual({ status: 'fulfilled', value: i % 3 === 1 ? { i, via: 'french' } : undefined });
    });
    expect(await server.test('/', { i: 1 })).toEqual({ i: 1, via: 'french' });
  });

  test('a handler that throws fails with SG_ERR_STEP_FAILED', async () => {
    const { server } = routed(() => {
      throw new Error('cannot route');
    });
    expect((await rejectsSg(server.test('/', {}), 'SG_ERR_STEP_FAILED')).step).toBe('route');
  });

  test('options: resultPath and unknown fields are refused; no downstream step fails validation', () => {
    throwsSg(() => new Choice({ handler: () => [], resultPath: 'a' } as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new Choice({ handler: () => [], outlets: [] } as never), 'SG_ERR_INVALID_OPTION');
    throwsSg(() => new Choice({ handler: 3 } as never), 'SG_ERR_INVALID_OPTION');
    const g = createGraph();
    g.to(new Choice({ name: 'lonely', handler: () => [] }));
    expect(throwsSg(() => quietServer(g), 'SG_ERR_CHOICE_INVALID').step).toBe('lonely');
    expect(new Choice({ handler: () => [] })).toBeInstanceOf(Step);
  });
});
