import { createGraph, createMockServer, Model, ModelArtifact, ModelRunnerStep } from 'servegraph';

let loads = 0;
class Embedder extends Model {
  load() {
    loads += 1;
  }
  predict(text, ctx) {
    return { by: ctx.endpointName, length: text.length };
  }
}

const base = new ModelArtifact({ key: 'embedder-v1' });
const graph = createGraph();
graph.addSharedModel({ name: 'embedder', modelClass: Embedder, executionMechanism: 'asyncio', modelArtifact: base });

const search = new ModelRunnerStep({ name: 'search' });
search.addSharedModelProxy({ endpointName: 'search-embed', sharedModelName: 'embedder', labels: ['team=search'] });
const ranking = new ModelRunnerStep({ name: 'ranking' });
ranking.addSharedModelProxy({ endpointName: 'rank-embed', modelArtifact: base }); // found by its artifact

graph.to(search).respond(); // two start steps: every event goes to both runners
graph.to(ranking);
const server = createMockServer(graph);
console.log(JSON.stringify(await server.test('/', 'hello')));
const [call] = await server.monitoring.calls('rank-embed');
console.log('rank-embed called:', call.outcome, '| loads:', loads);
await server.close();
