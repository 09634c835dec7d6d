// The seed's "Example with classifier", in servegraph: a selector picks the endpoints per event,
// and each endpoint runs in its own execution mechanism.
import { fileURLToPath } from 'node:url';
import { createGraph, createMockServer, ModelRunnerStep, ModelSelector, registerClass } from 'servegraph';

class MyClassifier extends ModelSelector {
  constructor(params) {
    super(params);
    this.models = [...(params.models ?? [])];
  }

  select(event) {
    const wanted = event.body.models;
    if (Array.isArray(wanted) && wanted.every((m) => this.models.includes(m))) return wanted;
    return [];
  }
}
registerClass('MyClassifier', MyClassifier);

const models = fileURLToPath(new URL('./lib/models.mjs', import.meta.url));
const runner = new ModelRunnerStep({
  name: 'model_runner_step',
  modelRunnerSelector: 'MyClassifier', // the seed's spelling; modelSelector is the same option
  modelSelectorParameters: { models: ['endpoint-1', 'endpoint-2'] },
});
runner.addModel({
  endpointName: 'endpoint-1',
  modelClass: `${models}#FinanceModel`,
  executionMechanism: 'thread_pool',
});
runner.addModel({
  endpointName: 'endpoint-2',
  modelClass: `${models}#TravelModel`,
  executionMechanism: 'process_pool',
  modelParameters: { currency: 'NOK' },
});

const graph = createGraph();
graph.to(runner).respond();

const server = createMockServer(graph);
console.log(JSON.stringify(await server.test('/', { q: 'Oslo', models: ['endpoint-1'] })));
console.log(JSON.stringify(await server.test('/', { q: 'Oslo', models: ['endpoint-1', 'endpoint-2'] })));
console.log(JSON.stringify(await server.test('/', { q: 'Oslo', models: ['unknown'] })));
await server.close();
