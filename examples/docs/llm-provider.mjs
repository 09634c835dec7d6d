import {
  createGraph,
  createMockServer,
  LLMPromptArtifact,
  ModelProvider,
  ModelRunnerStep,
  registerProvider,
} from 'servegraph';

// a provider of your own: implement invoke (or invokeAsync), register it for a URL scheme
class ShoutProvider extends ModelProvider {
  async invokeAsync(messages, _config = {}, options = {}) {
    const answer = String(messages.at(-1)?.content ?? '').toUpperCase();
    const usage = { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 };
    return options.responseFormat === 'string' ? answer : { answer, usage };
  }
}
registerProvider('shout', ShoutProvider);

const prompt = new LLMPromptArtifact({ key: 'shout', modelUrl: 'shout://loud', promptTemplate: 'hello {name}' });
const runner = new ModelRunnerStep({ name: 'runner' });
runner.addModel({
  endpointName: 'shouter',
  modelClass: 'LLModel',
  modelArtifact: prompt,
  executionMechanism: 'asyncio',
});
const graph = createGraph({ name: 'shout' });
graph.to(runner).respond();
const server = createMockServer(graph);
console.log(JSON.stringify(await server.test('/', { name: 'Ada' })));
await server.close();
