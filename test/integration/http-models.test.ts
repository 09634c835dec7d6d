import { afterEach, expect, test } from 'vitest';
import { createGraph, type HttpServer, Model, ModelRunnerStep, serve } from '../../src/index.js';

let app: HttpServer | undefined;
afterEach(async () => {
  await app?.close({ graceMs: 1000 });
  app = undefined;
});

class Upper extends Model<string, string> {
  override predict(text: string): string {
    if (text === '') throw new TypeError('empty text');
    return text.toUpperCase();
  }
}

test('a runner served over HTTP: its output is the reply, its failures are error bodies, its calls are on app.monitoring', async () => {
  const runner = new ModelRunnerStep({ name: 'runner' });
  runner.addModel({
    endpointName: 'upper',
    modelClass: Upper,
    executionMechanism: 'asyncio',
    inputPath: 'text',
    resultPath: 'out',
  });
  const graph = createGraph({ name: 'http-models' });
  graph.to(runner).respond();
  app = await serve(graph, { port: 0, logger: false });
  const ok = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"text":"abc"}',
  });
  expect(ok.status).toBe(200);
  expect(await ok.json()).toEqual({ text: 'abc', out: 'ABC' });
  const bad = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"text":""}',
  });
  expect(bad.status).toBe(500);
  expect(await bad.json()).toEqual({
    error: {
      code: 'SG_ERR_MODEL_RUNNER',
      message: "model runner 'runner' failed: upper: TypeError: empty text",
      step: 'runner',
      endpoint: 'upper',
    },
  });
  const calls = await app.monitoring.calls('upper');
  expect(calls.map((c) => c.outcome)).toEqual(['error', 'ok']);
  expect((await app.monitoring.getEndpoint('upper')).graph).toBe('http-models');
});
