import { describe, expect, test } from 'vitest';
import { Batch, Choice, createGraph, Filter, FlatMap, MapStep, Step } from '../../src/index.js';
import { quietServer, throwsSg } from '../support/core.js';

const map = (name: string) => new MapStep({ name, handler: (b: unknown) => b });

class Custom extends Step {
  override do(b: unknown) {
    return b;
  }
}

describe('validate(): the checks of graph.md section 13', () => {
  test('an empty graph: SG_ERR_EMPTY_GRAPH, from validate() and createMockServer', () => {
    const g = createGraph();
    throwsSg(() => g.validate(), 'SG_ERR_EMPTY_GRAPH');
    throwsSg(() => quietServer(g), 'SG_ERR_EMPTY_GRAPH');
    // a failed validation does not leave the graph in use
    expect(() => g.to(map('a'))).not.toThrow();
  });

  test('a valid graph validates, with or without a responder', () => {
    const g = createGraph();
    g.to(map('a'));
    expect(() => g.validate()).not.toThrow();
    g.to(map('b')).respond();
    expect(() => g.validate()).not.toThrow();
  });

  test("an error handler's before naming a missing step: SG_ERR_UNKNOWN_STEP at validation only", () => {
    const g = createGraph();
    const a = g.to(map('a'));
    a.errorHandler(map('h'), { before: 'later' }); // may name a step added later
    const err = throwsSg(() => g.validate(), 'SG_ERR_UNKNOWN_STEP');
    expect(err.message).toContain('later');
    expect(err.details).toMatchObject({ field: 'before', missing: 'later' });
    throwsSg(() => quietServer(g), 'SG_ERR_UNKNOWN_STEP');
    g.to(map('later'));
    expect(() => g.validate()).not.toThrow();
  });

  test('before leading back to the handled step: SG_ERR_GRAPH_CYCLE when added, or at validation', () => {
    const g = createGraph();
    const a = g.to(map('a'));
    const b = a.to(map('b'));
    throwsSg(() => b.errorHandler(map('h1'), { before: 'a' }), 'SG_ERR_GRAPH_CYCLE');
    throwsSg(() => b.errorHandler(map('h2'), { before: 'b' }), 'SG_ERR_GRAPH_CYCLE');
    // a name added later that turns out to lead back is caught by validate()
    b.errorHandler(map('h3'), { before: 'z' });
    g.to(map('z')).to(a);
    const err = throwsSg(() => g.validate(), 'SG_ERR_GRAPH_CYCLE');
    expect(err.message).toContain("'z'");
  });

  test('the order of checks: unknown name, cycle, handler, responders, Choice', () => {
    // all of 2..6 at once: the unknown name is reported
    const g = createGraph();
    const a = g.to(map('a'));
    const h = map('h');
    a.errorHandler(h, { before: 'missing' });
    const z = g.to(map('z'));
    a.errorHandler(map('h4'), { before: 'z' });
    z.to(a); // h4 -> z -> a: a loop through the handler
    g.to(map('r1')).respond();
    g.to(map('r2')).respond();
    g.to(new Choice({ name: 'route', handler: () => [] }));
    h.respond(); // a handler marked with respond()
    throwsSg(() => g.validate(), 'SG_ERR_UNKNOWN_STEP');
    g.to(map('missing'));
    throwsSg(() => g.validate(), 'SG_ERR_GRAPH_CYCLE');
    // same graph without the loop
    const g2 = createGraph();
    g2.to(map('a')).errorHandler(map('h'), {});
    g2.steps.get('h')!.respond();
    g2.to(map('r1')).respond();
    g2.to(new Choice({ name: 'route', handler: () => [] }));
    throwsSg(() => g2.validate(), 'SG_ERR_INVALID_ERROR_HANDLER');
    // without the bad handler: two responders come before the Choice
    const g3 = createGraph();
    g3.to(map('r1')).respond();
    g3.to(map('r2')).respond();
    g3.to(new Choice({ name: 'route', handler: () => [] }));
    const err = throwsSg(() => g3.validate(), 'SG_ERR_MULTIPLE_RESPONDERS');
    expect(err.message).toContain("'r1'");
    expect(err.message).toContain("'r2'");
    const g4 = createGraph();
    g4.to(new Choice({ name: 'route', handler: () => [] }));
    expect(throwsSg(() => g4.validate(), 'SG_ERR_CHOICE_INVALID').step).toBe('route');
    throwsSg(() => quietServer(g4), 'SG_ERR_CHOICE_INVALID');
  });

  test('two responders: SG_ERR_MULTIPLE_RESPONDERS names both', () => {
    const g = createGraph();
    const a = g.to(map('first')).respond();
    a.to(map('second')).respond();
    const err = throwsSg(() => quietServer(g), 'SG_ERR_MULTIPLE_RESPONDERS');
    expect(err.details.responders).toEqual(['first', 'second']);
  });

  test('a Choice with a downstream step is valid', () => {
    const g = createGraph();
    g.to(new Choice({ name: 'route', handler: () => 'x' })).to(map('x'));
    expect(() => g.validate()).not.toThrow();
  });
});

describe('error handlers: the rules of graph.md section 9', () => {
  test('errorHandler returns the step; the handler joins the graph as a step without upstream', () => {
    const g = createGraph();
    const a = g.to(map('a'));
    const h = map('h');
    expect(a.errorHandler(h)).toBe(a);
    expect(g.steps.get('h')).toBe(h);
    expect(g.errorHandler(map('last'))).toBe(g);
    expect([...g.steps.keys()]).toEqual(['a', 'h', 'last']);
    expect(() => g.validate()).not.toThrow();
  });

  test('only a MapStep or a user step may be a handler', () => {
    const g = createGraph();
    const a = g.to(map('a'));
    throwsSg(() => a.errorHandler(new Filter({ name: 'f', handler: () => true })), 'SG_ERR_INVALID_ERROR_HANDLER');
    throwsSg(() => a.errorHandler(new FlatMap({ name: 'fm', handler: () => [] })), 'SG_ERR_INVALID_ERROR_HANDLER');
    throwsSg(() => a.errorHandler(new Choice({ name: 'c', handler: () => [] })), 'SG_ERR_INVALID_ERROR_HANDLER');
    throwsSg(() => a.errorHandler(new Batch({ name: 'b', maxEvents: 2 })), 'SG_ERR_INVALID_ERROR_HANDLER');
    throwsSg(() => g.errorHandler(new Filter({ name: 'f', handler: () => true })), 'SG_ERR_INVALID_ERROR_HANDLER');
    expect(() => a.errorHandler(new Custom({ name: 'custom' }))).not.toThrow();
    expect([...g.steps.keys()]).toEqual(['a', 'custom']);
  });

  test('a handler may not have upstream steps, before or after it is attached', () => {
    const g = createGraph();
    const a = g.to(map('a'));
    const b = a.to(map('b'));
    throwsSg(() => a.errorHandler(b), 'SG_ERR_INVALID_ERROR_HANDLER'); // b is a regular step
    const h = map('h');
    b.errorHandler(h);
    throwsSg(() => a.to(h), 'SG_ERR_INVALID_ERROR_HANDLER');
    throwsSg(() => g.add(map('x'), { before: 'a' }).to(h), 'SG_ERR_INVALID_ERROR_HANDLER');
  });

  test('a responder may not be a handler', () => {
    const g = createGraph();
    const a = g.to(map('a'));
    throwsSg(() => a.errorHandler(map('h').respond()), 'SG_ERR_INVALID_ERROR_HANDLER');
    throwsSg(() => g.errorHandler(map('h2').respond()), 'SG_ERR_INVALID_ERROR_HANDLER');
    const h = map('h3');
    a.errorHandler(h);
    h.respond();
    throwsSg(() => g.validate(), 'SG_ERR_INVALID_ERROR_HANDLER');
  });

  test('a step may not handle its own failures', () => {
    const g = createGraph();
    const a = g.to(map('a'));
    throwsSg(() => a.errorHandler(a), 'SG_ERR_INVALID_ERROR_HANDLER');
  });

  test('the graph-level handler takes no before', () => {
    const g = createGraph();
    g.to(map('a'));
    g.to(map('b'));
    throwsSg(() => g.errorHandler(map('h'), { before: 'b' }), 'SG_ERR_INVALID_ERROR_HANDLER');
    // a handler shared by a step (with before) and the graph is refused at validation
    const g2 = createGraph();
    const a = g2.to(map('a'));
    g2.to(map('b'));
    const h = map('h');
    a.errorHandler(h, { before: 'b' });
    g2.errorHandler(h);
    throwsSg(() => g2.validate(), 'SG_ERR_INVALID_ERROR_HANDLER');
  });

  test('one handler may serve several steps; their before lists add up', () => {
    const g = createGraph();
    const a = g.to(map('a'));
    const b = g.to(map('b'));
    const h = map('h');
    a.errorHandler(h, { before: 'x' });
    b.errorHandler(h, { before: ['y', 'x'] });
    g.to(map('x'));
    g.to(map('y'));
    expect(g._downstream('h')).toEqual(['x', 'y']);
    expect(() => g.validate()).not.toThrow();
    expect(g.steps.size).toBe(5);
  });

  test('the graph-level handler may also be a step handler without before', () => {
    const g = createGraph();
    const h = map('h');
    g.to(map('a')).errorHandler(h);
    g.errorHandler(h);
    expect(g.steps.size).toBe(2);
    expect(() => g.validate()).not.toThrow();
  });

  test('a handler attached to one graph cannot serve another graph', () => {
    const g1 = createGraph();
    const h = map('h');
    g1.to(map('a')).errorHandler(h);
    const g2 = createGraph();
    throwsSg(() => g2.to(map('a')).errorHandler(h), 'SG_ERR_DUPLICATE_STEP');
  });
});
