import { createGraph, createMockServer, Model, ModelRunnerStep } from 'servegraph';

class AddOne extends Model {
  predict(n) {
    return n + 1;
  }
}
class AddTwo extends Model {
  async predictAsync(n) {
    return n + 2;
  }
}

const runner = new ModelRunnerStep({ name: 'runner' });
runner.addModel({
  endpointName: 'm1',
  modelClass: AddOne,
  executionMechanism: 'naive',
  inputPath: 'n',
  resultPath: 'out',
});
runner.addModel({ endpointName: 'm2', modelClass: AddTwo, executionMechanism: 'asyncio', inputPath: 'n' });

const graph = createGraph();
graph.to(runner).respond();

const server = createMockServer(graph);
console.log(JSON.stringify(await server.test('/', { n: 1 })));
await server.close();
