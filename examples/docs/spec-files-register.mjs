import { createMockServer, Graph, registerClass, Step } from 'servegraph';

class Shout extends Step {
  constructor(options) {
    super(options);
    this.mark = options.mark ?? '!';
  }

  do(text) {
    return `${text.toUpperCase()}${this.mark}`;
  }
}
registerClass('Shout', Shout); // a step class
registerClass('trim', (text) => text.trim()); // a handler

const graph = Graph.fromSpec({
  steps: {
    trim: { class: 'MapStep', handler: 'trim' },
    shout: { class: 'Shout', after: 'trim', params: { mark: '!!' }, responder: true },
  },
});
const server = createMockServer(graph);
console.log(await server.test('/', '  hello '));
await server.close();
