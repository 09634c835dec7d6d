import { createGraph, createMockServer, Model, ModelRunnerStep } from 'servegraph';

class Counter extends Model {
  predict(text, ctx) {
    ctx.recordUsage({ prompt_tokens: text.length, completion_tokens: 1, total_tokens: text.length + 1 });
    return text.length;
  }
}

const runner = new ModelRunnerStep({ name: 'runner' });
runner.addModel({ endpointName: 'counter', modelClass: Counter, executionMechanism: 'asyncio', labels: ['team=demo'] });
const graph = createGraph({ name: 'demo' });
graph.to(runner).respond();

const server = createMockServer(graph);
for (const text of ['a', 'bb', 'ccc']) await server.test('/', text);
const [last] = await server.monitoring.calls('counter', { limit: 1 });
console.log(last.outcome, last.totalTokens, last.batchSize);
const stats = await server.monitoring.stats('counter', { window: '15m' });
console.log(stats.count, stats.errors, stats.tokens.total);
console.log((await server.monitoring.getEndpoint('counter')).labels);
await server.close();
