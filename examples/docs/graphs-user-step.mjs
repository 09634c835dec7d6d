import { createGraph, createMockServer, Step } from 'servegraph';

class Translate extends Step {
  constructor(options) {
    super(options); // the common options: name, inputPath, resultPath, fullEvent
    this.fallback = options.fallback ?? '?';
  }

  async init() {
    this.words = new Map([
      ['hello', 'bonjour'],
      ['world', 'monde'],
    ]);
    console.log('init: dictionary loaded');
  }

  do(text) {
    return text
      .split(' ')
      .map((w) => this.words.get(w) ?? this.fallback)
      .join(' ');
  }

  async close() {
    console.log('close: released');
  }
}

const graph = createGraph();
graph.to(new Translate({ name: 'translate', inputPath: 'text', resultPath: 'fr' })).respond();

const server = createMockServer(graph);
console.log(await server.test('/', { text: 'hello world' }));
await server.close();
