import { expect, test } from 'vitest';
import { createGraph, createMockServer, Model, ModelRunnerStep, ModelSelector } from '../../src/index.js';

class Talker extends Model<{ q: string }, string> {
  override async *predictStream(input: { q: string }) {
    for (const w of ['Hel', 'lo ', input.q]) yield w;
    return { usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 } };
  }
}
class Plain extends Model {
  override predict() {
    return 'plain';
  }
}

test('a runner with a streaming model streams; collected it is the runner output', async () => {
  const r = new ModelRunnerStep({ name: 'chat' });
  r.addModel({ endpointName: 'talk', modelClass: Talker, executionMechanism: 'asyncio', resultPath: 'output' });
  const g = createGraph();
  g.to(r).respond();
  const s = createMockServer(g);
  const st = s.testStream('/', { q: 'you' });
  const got: unknown[] = [];
  for await (const c of st) got.push(c);
  expect(got).toEqual(['Hel', 'lo ', 'you']);
  expect((await st.done).usage).toEqual({ prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 });
  expect(await s.test('/', { q: 'x' })).toEqual({ q: 'x', output: 'Hello x' });
  const [rec] = await s.monitoring.calls('talk');
  expect(rec).toMatchObject({ streamed: true, chunks: 3, outcome: 'ok', totalTokens: 4 });
  await s.close();
});

test('runner streaming rules and selection', async () => {
  const both = new ModelRunnerStep({ name: 'both' });
  both.addModel({ endpointName: 'talk', modelClass: Talker, executionMechanism: 'asyncio' });
  both.addModel({ endpointName: 'plain', modelClass: Plain, executionMechanism: 'naive' });
  const g = createGraph();
  g.to(both).respond();
  expect(() => g.validate()).toThrow(
    /runner 'both' holds streaming model 'talk' and 1 other model but no modelSelector/,
  );
  class All extends ModelSelector {
    override select(e: import('../../src/index.js').Event) {
      return (e.body as { pick: string[] }).pick;
    }
  }
  const r2 = new ModelRunnerStep({ name: 'sel', modelSelector: new All() });
  r2.addModel({ endpointName: 'talk2', modelClass: Talker, executionMechanism: 'asyncio' });
  r2.addModel({ endpointName: 'plain2', modelClass: Plain, executionMechanism: 'naive' });
  const g2 = createGraph();
  g2.to(r2).respond();
  const s = createMockServer(g2);
  expect(await s.test('/', { q: 'a', pick: ['plain2'] })).toEqual({ plain2: 'plain' });
  expect(await s.test('/', { q: 'a', pick: ['talk2'] })).toEqual({ talk2: 'Hello a' });
  await expect(s.test('/', { q: 'a', pick: ['talk2', 'plain2'] })).rejects.toMatchObject({
    code: 'SG_ERR_STREAM_SELECTION',
  });
  await s.close();
  const off = createGraph();
  const r3 = new ModelRunnerStep({ name: 'r3' });
  r3.addModel({ endpointName: 'talk3', modelClass: Talker, executionMechanism: 'naive' });
  off.to(r3).respond();
  off.setStreaming(false);
  const s3 = createMockServer(off);
  expect(await s3.test('/', { q: 'z' })).toBe('Hello z');
  await s3.close();
});
