import { fileURLToPath } from 'node:url';
import { createGraph, createMockServer, Model, ModelRunnerStep } from 'servegraph';

const models = fileURLToPath(new URL('./lib/models.mjs', import.meta.url));
class Echo extends Model {
  predict(input) {
    return input;
  }
}

for (const raiseException of [false, true]) {
  const runner = new ModelRunnerStep({ name: 'runner', raiseException });
  runner.addModel({ endpointName: 'echo', modelClass: Echo, executionMechanism: 'naive', inputPath: 'q' });
  runner.addModel({ endpointName: 'strict', modelClass: `${models}#StrictModel`, executionMechanism: 'naive' });
  const graph = createGraph();
  graph.to(runner).respond();
  const server = createMockServer(graph);
  try {
    console.log(`raiseException: ${raiseException} ->`, JSON.stringify(await server.test('/', { q: '' })));
  } catch (err) {
    console.log(`raiseException: ${raiseException} ->`, err.code, err.status, JSON.stringify(err.details.codes));
  }
  await server.close();
}
