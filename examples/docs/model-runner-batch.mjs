// The seed's batching example: Batch -> ModelRunnerStep with a dedicated-process model -> FlatMap.
import { fileURLToPath } from 'node:url';
import { Batch, createGraph, createMockServer, FlatMap, ModelRunnerStep } from 'servegraph';

const models = fileURLToPath(new URL('./lib/models.mjs', import.meta.url));
const runner = new ModelRunnerStep({ name: 'my_model_runner' });
runner.addModel({
  endpointName: 'my_endpoint',
  modelClass: `${models}#LengthScorer`,
  executionMechanism: 'dedicated_process',
  inputPath: 'question',
  resultPath: 'output',
});

const graph = createGraph();
graph
  .to(new Batch({ name: 'my_batching', maxEvents: 2, flushAfterSeconds: 0.2, fullEvent: true }))
  .to(runner)
  .to(new FlatMap({ name: 'split', fullEvent: true, handler: (batch) => batch.body }))
  .respond();

const server = createMockServer(graph);
const replies = await Promise.all(['why?', 'how so?', 'when'].map((question) => server.test('/', { question })));
for (const r of replies) console.log(JSON.stringify(r));
await server.close();
