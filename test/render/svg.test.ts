// graph.md section 1 and monitoring.md section 10: the SVG drawing of a graph, its classes and options.
import { describe, expect, test } from 'vitest';
import { createGraph, MapStep, ModelRunnerStep, SgError } from '../../src/index.js';
import { SVG_CSS } from '../../src/render/svg-style.js';
import { Echo, kindsGraph, runnerGraph } from './graphs.js';
import { allElements, byClass, classesOf, type Element, parseXml } from './xml-check.js';

const stepNode = (root: Element, name: string) => allElements(root).find((e) => e.attrs['data-step'] === name)!;
const endpointNode = (root: Element, name: string) => allElements(root).find((e) => e.attrs['data-endpoint'] === name)!;
const texts = (el: Element) => allElements(el).map((e) => e.text);

describe('toSvg', () => {
  test('is a well-formed SVG with role="img", a <title> naming the graph and classes on every element', () => {
    for (const g of [kindsGraph(), runnerGraph()]) {
      const svg = g.toSvg();
      const root = parseXml(svg);
      expect(root.name).toBe('svg');
      expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
      expect(root.attrs.role).toBe('img');
      expect(root.attrs.viewBox).toMatch(/^0 0 \d+(\.\d)? \d+(\.\d)?$/);
      expect(root.children[0]).toMatchObject({ name: 'title', text: g.name });
      for (const el of allElements(root)) expect(classesOf(el).length, `<${el.name}> has a class`).toBeGreaterThan(0);
    }
  });

  test('every step is a <g data-step> with its name and its kind', () => {
    const root = parseXml(kindsGraph().toSvg());
    const kinds = {
      clean: 'map',
      route: 'choice',
      keep: 'filter',
      group: 'batch',
      split: 'flatMap',
      custom: 'step',
      merge: 'map',
    };
    for (const [name, kind] of Object.entries(kinds)) {
      const node = stepNode(root, name);
      expect(node.name).toBe('g');
      expect(classesOf(node)).toEqual(expect.arrayContaining(['sg-step', `sg-kind-${kind}`]));
      expect(byClass(node, 'sg-step-name')[0]!.text).toBe(name);
      expect(byClass(node, 'sg-step-kind')[0]!.text).toBe(kind);
    }
    expect(byClass(root, 'sg-step')).toHaveLength(7);
    expect(byClass(root, 'sg-start')).toHaveLength(1);
    expect(classesOf(stepNode(root, 'merge'))).toContain('sg-responder');
    expect(byClass(stepNode(root, 'merge'), 'sg-responder-ring')).toHaveLength(1);
    expect(byClass(root, 'sg-responder')).toHaveLength(1);
  });

  test('a ModelRunnerStep lists each endpoint as a <g data-endpoint> with its mechanism and a health class', () => {
    const g = runnerGraph();
    const root = parseXml(g.toSvg({ health: { slow: 'sg-bad', talk: 'sg-warn' } }));
    const scores = stepNode(root, 'scores');
    expect(classesOf(scores)).toContain('sg-kind-model-runner');
    expect(byClass(scores, 'sg-step-kind')[0]!.text).toBe('model runner');
    const rows = byClass(scores, 'sg-endpoint');
    expect(rows.map((r) => r.attrs['data-endpoint'])).toEqual(['fast', 'slow']);
    expect(texts(rows[0]!)).toContain('fast (naive)');
    expect(texts(rows[1]!)).toContain('slow (thread_pool)');
    expect(classesOf(endpointNode(root, 'fast'))).toEqual(['sg-endpoint', 'sg-ok']); // the default
    expect(classesOf(endpointNode(root, 'slow'))).toEqual(['sg-endpoint', 'sg-bad']);
    expect(classesOf(endpointNode(root, 'talk'))).toEqual(['sg-endpoint', 'sg-warn']);
    expect(stepNode(root, 'chat').children.some((c) => c.attrs['data-endpoint'] === 'talk')).toBe(true);
  });

  test('`classes` adds classes to steps and endpoints; a health class given there replaces the default', () => {
    const root = parseXml(runnerGraph().toSvg({ classes: { prep: 'hot  new', fast: ['sg-warn', 'x'] } }));
    expect(classesOf(stepNode(root, 'prep'))).toEqual(expect.arrayContaining(['sg-step', 'hot', 'new']));
    expect(classesOf(endpointNode(root, 'fast'))).toEqual(['sg-endpoint', 'sg-warn', 'x']);
  });

  test('invalid options throw SG_ERR_INVALID_OPTION', () => {
    const g = runnerGraph();
    for (const options of [{ health: { fast: 'red' } }, { classes: { prep: 3 } }]) {
      try {
        g.toSvg(options as never);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(SgError);
        expect((err as SgError).code).toBe('SG_ERR_INVALID_OPTION');
      }
    }
  });

  test('edges: streams as sg-edge-stream, others sg-edge, error edges dashed and labelled', () => {
    const root = parseXml(runnerGraph().toSvg());
    const edges = byClass(root, 'sg-edge');
    const edge = (from: string, to: string) =>
      edges.find((e) => e.attrs['data-from'] === from && e.attrs['data-to'] === to)!;
    expect(classesOf(edge('chat', 'gather'))).toEqual(['sg-edge', 'sg-edge-stream']);
    for (const [from, to] of [
      ['prep', 'chat'],
      ['prep', 'scores'],
      ['gather', 'reply'],
      ['scores', 'reply'],
    ])
      expect(classesOf(edge(from!, to!))).toEqual(['sg-edge']);
    expect(classesOf(edge('prep', 'oops'))).toEqual(['sg-edge', 'sg-edge-error']);
    for (const from of ['chat', 'gather', 'scores', 'reply']) expect(edge(from, 'last')).toBeDefined();
    expect(edges.filter((e) => classesOf(e).includes('sg-edge-error'))).toHaveLength(5);
    expect(byClass(root, 'sg-edge-label').map((e) => e.text)).toEqual(Array(5).fill('error'));
    expect(byClass(root, 'sg-edge-start')).toHaveLength(1);
    for (const e of edges) {
      expect(e.name).toBe('path');
      expect(e.attrs.d).toMatch(/^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+)+$/);
      expect(e.attrs['marker-end']).toBe('url(#sg-arrow)');
    }
    expect(allElements(root).find((e) => e.name === 'marker')?.attrs.id).toBe('sg-arrow');
    expect(classesOf(stepNode(root, 'gather'))).toContain('sg-collector');
    expect(classesOf(stepNode(root, 'chat'))).toContain('sg-streaming');
    expect(byClass(stepNode(root, 'chat'), 'sg-step-kind')[0]!.text).toBe('model runner (streaming)');
    expect(classesOf(stepNode(root, 'oops'))).toContain('sg-handler');
  });

  test('with streaming disabled no edge is a stream', () => {
    const g = runnerGraph().setStreaming(false);
    const svg = g.toSvg();
    expect(svg).not.toContain('sg-edge-stream');
    expect(svg).not.toContain('sg-streaming');
  });

  test('no style attribute or element by default; exactly one <style> with embedStyles or standalone', () => {
    const g = runnerGraph();
    for (const svg of [g.toSvg(), g.toSvg({ health: { fast: 'sg-bad' } }), kindsGraph().toSvg()]) {
      expect(svg).not.toMatch(/\sstyle\s*=/i);
      expect(svg).not.toMatch(/<style[\s>]/i);
      expect(allElements(parseXml(svg)).some((e) => e.name === 'style' || 'style' in e.attrs)).toBe(false);
    }
    for (const svg of [g.toSvg({ embedStyles: true }), g.toSvg({ standalone: true })]) {
      const styles = allElements(parseXml(svg)).filter((e) => e.name === 'style');
      expect(styles).toHaveLength(1);
      expect(styles[0]!.text.trim()).toBe(SVG_CSS.trim());
      expect(svg).not.toMatch(/\sstyle\s*=/i);
    }
  });

  test('SVG_CSS styles every class the renderer emits and needs no escaping', () => {
    expect(SVG_CSS).not.toMatch(/[<>&]/);
    const used = new Set(
      [kindsGraph(), runnerGraph()].flatMap((g) => allElements(parseXml(g.toSvg())).flatMap(classesOf)),
    );
    const styled = ['sg-graph', 'sg-node-box', 'sg-endpoint-box', 'sg-edge', 'sg-edge-stream', 'sg-edge-error'];
    for (const cls of styled) {
      expect(used.has(cls)).toBe(true);
      expect(SVG_CSS).toContain(`.${cls}`);
    }
    for (const cls of ['sg-ok', 'sg-warn', 'sg-bad', 'sg-responder', 'sg-collector'])
      expect(SVG_CSS).toContain(`.${cls}`);
  });

  test('text is escaped: &, <, >, quotes in graph, step and endpoint names', () => {
    const name = `a<b>&"c'`;
    const g = createGraph({ name });
    g.to(new MapStep({ name: 'x&<y>"', handler: (x: unknown) => x })).to(
      new ModelRunnerStep({ name: 'r' }).addModel({
        endpointName: `e"<&>'`,
        modelClass: Echo,
        executionMechanism: 'naive',
      }),
    );
    const svg = g.toSvg({ classes: { r: '"><script>' }, health: { [`e"<&>'`]: 'sg-warn' } });
    expect(svg).not.toContain('<script');
    expect(svg).not.toMatch(/&(?!amp;|lt;|gt;|quot;|#39;)/);
    const root = parseXml(svg);
    expect(byClass(root, 'sg-title')[0]!.text).toBe(name);
    expect(root.attrs['data-graph']).toBe(name);
    expect(byClass(stepNode(root, 'x&<y>"'), 'sg-step-name')[0]!.text).toBe('x&<y>"');
    const ep = endpointNode(root, `e"<&>'`);
    expect(classesOf(ep)).toEqual(['sg-endpoint', 'sg-warn']);
    expect(texts(ep)).toContain(`e"<&>' (naive)`);
    expect(classesOf(stepNode(root, 'r'))).toContain('"><script>');
  });

  test('characters XML forbids are replaced, so the document stays well-formed', () => {
    const g = createGraph({ name: 'ctl\u0001' });
    g.to(new MapStep({ name: 'bell\u0007', handler: (x: unknown) => x }));
    const root = parseXml(g.toSvg());
    expect(byClass(root, 'sg-title')[0]!.text).toBe('ctl\ufffd');
  });

  test('deterministic: the same graph, or an equal one, draws the same string', () => {
    const g = runnerGraph();
    expect(g.toSvg()).toBe(g.toSvg());
    expect(runnerGraph().toSvg({ embedStyles: true })).toBe(runnerGraph().toSvg({ embedStyles: true }));
    expect(kindsGraph().toSvg()).toBe(kindsGraph().toSvg());
  });

  test('toMermaid is unchanged by the SVG renderer', () => {
    expect(kindsGraph().toMermaid().startsWith('flowchart LR\n')).toBe(true);
  });
});
