import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGraph, createMockServer, Model, ModelRunnerStep } from 'servegraph';

class Scorer extends Model {
  predict(input) {
    if (input.text === '') throw new Error('nothing to score');
    return { score: input.text.length };
  }
}

const graph = createGraph({ name: 'reviews' });
const runner = new ModelRunnerStep({ name: 'runner' });
runner.addModel({ endpointName: 'scorer', modelClass: Scorer, executionMechanism: 'naive', labels: ['team=search'] });
graph.to(runner).respond();

// every model is a model endpoint; its calls go to a store (here a SQLite file)
const store = `sqlite:${join(mkdtempSync(join(tmpdir(), 'sg-')), 'monitoring.db')}`;
const server = createMockServer(graph, { tracking: { store } });
for (const text of ['good', 'very good', 'fine']) await server.test('/', { text });
await server.test('/', { text: '' }).catch(() => {});

const stats = await server.monitoring.stats('scorer', { window: '1m' });
console.log(stats.count, 'calls,', stats.errors, 'error, error rate', stats.errorRate, stats.errorsByCode);
const [last] = await server.monitoring.calls('scorer', { limit: 1 });
console.log(last.outcome, last.errorCode, last.batchSize);
const metrics = await server.monitoring.metricsText();
console.log(
  metrics
    .split('\n')
    .filter((l) => l.startsWith('servegraph_model_requests_total'))
    .join('\n'),
);
await server.close();
