import { Batch, createGraph, createMockServer, FlatMap, MapStep } from 'servegraph';

// Stands in for a model that answers many questions in one call.
function answerAll(questions) {
  return questions.map((q) => ({ answer: `${q.length} characters` }));
}

const graph = createGraph();
graph
  .to(new Batch({ name: 'my_batching', maxEvents: 2, flushAfterSeconds: 0.1, fullEvent: true }))
  .to(
    new MapStep({
      name: 'model',
      handler: (events) => {
        console.log(`one model call for a batch of ${events.length}`);
        const answers = answerAll(events.map((e) => e.body.question));
        events.forEach((e, i) => {
          e.body = { ...e.body, output: answers[i] };
        });
        return events;
      },
    }),
  )
  .to(new FlatMap({ name: 'split', fullEvent: true, handler: (batch) => batch.body }))
  .respond();

const server = createMockServer(graph);
const questions = ['Why?', 'How far is Paris?', 'When?'];
for (const reply of await Promise.all(questions.map((question) => server.test('/', { question })))) {
  console.log(reply);
}
await server.close();
