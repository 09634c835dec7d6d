import { SgError } from '../errors/index.js';
import type { PoolResourceOptions } from '../models/pool-resources.js';
import { type AddSharedModelOptions, SharedModels } from '../models/shared-models.js';
import { toMermaid } from '../render/mermaid.js';
import { type SvgOptions, toSvg } from '../render/svg.js';
import { graphFromFile, graphFromSpec, graphToSpec } from '../spec/index.js';
import { checkOptions, checkRefs, checkStep } from './arguments.js';
import { downstream, type Edge, reaches, upstream } from './edges.js';
import { checkName } from './names.js';
import {
  checkStreaming,
  graphOptionsSchema,
  parseOptions,
  type StreamingSettings,
  type TrackingOptions,
  trackingSchema,
} from './settings.js';
import type { Step } from './step.js';
import { validateGraph } from './validate.js';

export type GraphOptions = { name?: string; baseDir?: string };
type AnyStep = Step<unknown, unknown>;
type StepRef = string | AnyStep;

export type { Edge } from './edges.js';

/**
 * A flow graph: steps, the edges between them, error handlers and the responder (graph.md).
 * It is data only: a server compiles it (engine/) when it starts.
 */
export class Graph {
  readonly name: string;
  readonly baseDir: string;
  /** @internal */ readonly _steps = new Map<string, AnyStep>();
  /** @internal edges in the order they were added (edge order, graph.md section 2) */
  _edges: Edge[] = [];
  /** @internal step name -> its error handler's name */
  readonly _handlerOf = new Map<string, string>();
  /** @internal names of steps that serve as error handlers */
  readonly _handlers = new Set<string>();
  /** @internal */ _graphHandler: string | undefined;
  /** @internal set while a server from this graph is open */
  _inUse = false;
  /** @internal */ _streaming: StreamingSettings = { enabled: true, maxBufferedChunks: 16 };
  /** @internal */ _tracking: TrackingOptions = {};
  /** @internal shared models and the graph-level executor's sizing (model-runner.md section 7) */
  readonly _shared = new SharedModels();
  private lastAdded: string | undefined;

  constructor(options: GraphOptions = {}) {
    const o = parseOptions(graphOptionsSchema, options, 'createGraph');
    this.name = o.name === undefined ? 'default' : checkName(o.name, 'graph name');
    this.baseDir = o.baseDir ?? process.cwd();
  }

  /** Every step, in insertion order (error handlers included). */
  get steps(): ReadonlyMap<string, AnyStep> {
    return this._steps;
  }

  /** The step marked with respond(), if any. */
  get responder(): AnyStep | undefined {
    for (const s of this._steps.values()) if (s._responder) return s;
    return undefined;
  }

  get streaming(): boolean {
    return this._streaming.enabled;
  }

  /** Add `step` as a start step (it receives every event) and return it. */
  to<S extends AnyStep>(step: S): S {
    checkStep(step, 'graph.to()');
    this._assertMutable();
    if (step._graph === this) {
      throw new SgError(
        'SG_ERR_DUPLICATE_STEP',
        `step '${step.name}' is already in this graph: graph.to() only adds new steps; use step.to() to add an edge`,
        { step: step.name },
      );
    }
    this.attach(step);
    return step;
  }

  /** Add `step` after the steps in `after` (start step when empty), or in the place of `before` (graph.md section 2). */
  add<S extends AnyStep>(step: S, options: { after?: StepRef | StepRef[]; before?: StepRef } = {}): S {
    checkStep(step, 'graph.add()');
    checkOptions(options, 'graph.add()', ['after', 'before']);
    checkRefs(options.after, 'graph.add()', 'after', true);
    checkRefs(options.before, 'graph.add()', 'before', false);
    this._assertMutable();
    const afterList = options.after === undefined ? [] : Array.isArray(options.after) ? options.after : [options.after];
    const after = afterList.map((ref) => this.resolveRef(ref, step.name, 'after'));
    const before = options.before === undefined ? undefined : this.resolveRef(options.before, step.name, 'before');
    if (before !== undefined) {
      if (before === step.name || after.includes(before)) {
        throw new SgError(
          'SG_ERR_GRAPH_CYCLE',
          `step '${step.name}': before '${before}' is the step itself or one of its after steps`,
          { step: step.name },
        );
      }
      for (const a of after) {
        if (this._reaches(before, a)) {
          throw new SgError(
            'SG_ERR_GRAPH_CYCLE',
            `step '${step.name}' after '${a}' and before '${before}' would close a loop (${before} -> … -> ${a})`,
            { step: step.name },
          );
        }
      }
    }
    this.checkNew(step);
    this.attach(step);
    if (before !== undefined) {
      for (const e of this._edges) if (e.to === before) e.to = step.name;
    }
    for (const a of after) if (!this.hasEdge(a, step.name)) this._edges.push({ from: a, to: step.name });
    if (before !== undefined) this._edges.push({ from: step.name, to: before });
    return step;
  }

  /** Set the graph-level error handler, used for a failing step that has no handler of its own. */
  errorHandler(handler: AnyStep, options?: { before?: unknown }): this {
    checkStep(handler, 'graph.errorHandler()');
    if (options !== undefined) checkOptions(options, 'graph.errorHandler()', ['before']);
    this._assertMutable();
    if (options?.before !== undefined) {
      throw new SgError(
        'SG_ERR_INVALID_ERROR_HANDLER',
        `the graph-level error handler '${handler.name}' takes no before: the graph completes after it`,
        { step: handler.name },
      );
    }
    this.adoptHandler(handler, undefined);
    this._graphHandler = handler.name;
    return this;
  }

  /** Add a model loaded once for the whole graph and used by runners through proxies (model-runner.md section 7). */
  addSharedModel(options: AddSharedModelOptions): this {
    this._assertMutable();
    this._shared.add(options);
    return this;
  }

  /** Size the graph-level executor that runs shared models (model-runner.md section 8). */
  configureSharedPoolResource(options: PoolResourceOptions): this {
    this._assertMutable();
    this._shared.configure(options);
    return this;
  }

  /** Switch streaming on or off for servers created from this graph (streaming.md). */
  setStreaming(enabled: boolean, options?: { maxBufferedChunks?: number }): this {
    this._assertMutable();
    this._streaming = checkStreaming(enabled, options);
    return this;
  }

  /** Model-monitoring options (monitoring.md section 3); each call replaces the previous options. */
  setTracking(options: TrackingOptions): this {
    this._assertMutable();
    this._tracking = parseOptions(trackingSchema, options, 'setTracking');
    return this;
  }

  /** The spec-file form of this graph (graph.md section 11). */
  toSpec(): Record<string, unknown> {
    return graphToSpec(this);
  }

  /** A Mermaid `flowchart LR` of this graph (graph.md section 1). */
  toMermaid(): string {
    return toMermaid(this);
  }

  /** An SVG drawing of this graph (graph.md section 1); `embedStyles: true` adds its stylesheet for a standalone file. */
  toSvg(options?: SvgOptions): string {
    return toSvg(this, options);
  }

  /** Build a graph from a spec object (graph.md section 11); validates it. */
  static fromSpec(spec: unknown, options: { baseDir?: string } = {}): Graph {
    return graphFromSpec(spec, options);
  }

  /** Build a graph from a `.yaml`, `.yml` or `.json` spec file; module references resolve against its folder. */
  static fromFile(path: string): Graph {
    return graphFromFile(path);
  }

  /** Run the structural checks of graph.md section 13; throws the first SgError found. */
  validate(): void {
    validateGraph(this);
  }

  // ---- internal: used by Step, validation, the engine and spec files ----

  /** @internal */
  _assertMutable(): void {
    if (this._inUse) {
      throw new SgError(
        'SG_ERR_GRAPH_IN_USE',
        `graph '${this.name}' is in use by an open server: close it before changing the graph`,
      );
    }
  }

  /** @internal step.to(next): add `next` (if new) and the edge step -> next. */
  _connect(from: AnyStep, next: AnyStep): void {
    checkStep(next, `step '${from.name}'.to()`);
    this._assertMutable();
    if (next._graph !== this) this.checkNew(next);
    if (this._handlers.has(next.name) && next._graph === this) {
      throw new SgError(
        'SG_ERR_INVALID_ERROR_HANDLER',
        `step '${next.name}' is an error handler: it cannot have upstream steps (here '${from.name}')`,
        { step: next.name },
      );
    }
    if (from === next || (next._graph === this && this._reaches(next.name, from.name))) {
      throw new SgError('SG_ERR_GRAPH_CYCLE', `edge '${from.name}' -> '${next.name}' would close a loop`, {
        step: next.name,
      });
    }
    if (next._graph !== this) this.attach(next);
    if (!this.hasEdge(from.name, next.name)) this._edges.push({ from: from.name, to: next.name });
  }

  /** @internal step.errorHandler(handler, { before }). */
  _setStepErrorHandler(step: AnyStep, handler: AnyStep, options: { before?: StepRef | StepRef[] }): void {
    const where = `step '${step.name}'.errorHandler()`;
    checkStep(handler, where);
    checkOptions(options, where, ['before']);
    checkRefs(options.before, where, 'before', true);
    const before = options.before;
    this._assertMutable();
    if (handler === step) {
      throw new SgError('SG_ERR_INVALID_ERROR_HANDLER', `step '${step.name}' cannot handle its own failures`, {
        step: step.name,
      });
    }
    const list = before === undefined ? [] : Array.isArray(before) ? before : [before];
    const names = list.map((b) => (typeof b === 'string' ? b : b.name));
    for (const b of names) {
      if (b === step.name || (this._steps.has(b) && this._reaches(b, step.name))) {
        throw new SgError(
          'SG_ERR_GRAPH_CYCLE',
          `error handler '${handler.name}' of '${step.name}': before '${b}' leads back to '${step.name}', which would loop`,
          { step: handler.name },
        );
      }
    }
    this.adoptHandler(handler, step.name);
    this._handlerOf.set(step.name, handler.name);
    for (const b of names) if (!this.hasEdge(handler.name, b)) this._edges.push({ from: handler.name, to: b });
  }

  /** @internal Add a step and the edges from its `after` names, unchecked (spec files; validate() checks). */
  _addUnchecked(step: AnyStep, after: readonly string[]): void {
    this.checkNew(step);
    this.attach(step);
    for (const a of after) if (!this.hasEdge(a, step.name)) this._edges.push({ from: a, to: step.name });
  }

  /** @internal Mark a step (already added) as an error handler of `stepName` (spec files). */
  _setHandlerUnchecked(stepName: string, handlerName: string): void {
    this._handlerOf.set(stepName, handlerName);
    this._handlers.add(handlerName);
  }

  /** @internal Downstream step names in edge order. */
  _downstream(name: string): string[] {
    return downstream(this._edges, name);
  }

  /** @internal Upstream step names. */
  _upstream(name: string): string[] {
    return upstream(this._edges, name);
  }

  /** @internal Start steps: no upstream step and not an error handler, in insertion order. */
  _starts(): string[] {
    const hasUp = new Set(this._edges.map((e) => e.to));
    return [...this._steps.keys()].filter((n) => !hasUp.has(n) && !this._handlers.has(n));
  }

  /** @internal Whether `to` can be reached from `from` along edges (handler `before` edges included). */
  _reaches(from: string, to: string): boolean {
    return reaches(this._edges, from, to);
  }

  private hasEdge(from: string, to: string): boolean {
    return this._edges.some((e) => e.from === from && e.to === to);
  }

  private resolveRef(ref: StepRef, stepName: string, field: string): string {
    if (typeof ref === 'string') {
      const name = ref === '$prev' ? this.lastAdded : ref;
      if (name === undefined || !this._steps.has(name)) {
        throw new SgError(
          'SG_ERR_UNKNOWN_STEP',
          `step '${stepName}': ${field} names '${ref}', which is not in graph '${this.name}'`,
          {
            step: stepName,
            details: { field, missing: ref },
          },
        );
      }
      return name;
    }
    if (ref?._graph !== this) {
      throw new SgError(
        'SG_ERR_UNKNOWN_STEP',
        `step '${stepName}': ${field} names step '${ref?.name}', which is not in graph '${this.name}'`,
        {
          step: stepName,
          details: { field, missing: ref?.name },
        },
      );
    }
    return ref.name;
  }

  private checkNew(step: AnyStep): void {
    if (step._graph !== undefined) {
      throw new SgError(
        'SG_ERR_DUPLICATE_STEP',
        `step '${step.name}' already belongs to a graph; create a new instance`,
        { step: step.name },
      );
    }
    if (this._steps.has(step.name)) {
      throw new SgError('SG_ERR_DUPLICATE_STEP', `graph '${this.name}' already has a step named '${step.name}'`, {
        step: step.name,
      });
    }
    step._checkAttach(this);
  }

  private attach(step: AnyStep): void {
    this.checkNew(step);
    step._graph = this;
    this._steps.set(step.name, step);
    this.lastAdded = step.name;
  }

  /** Add `handler` as an error handler (new), or accept it again (already a handler of this graph). */
  private adoptHandler(handler: AnyStep, handles: string | undefined): void {
    if (!handler._canHandleErrors()) {
      throw new SgError(
        'SG_ERR_INVALID_ERROR_HANDLER',
        `step '${handler.name}' (${handler.constructor.name}) cannot be an error handler: use a MapStep or a user-defined step`,
        { step: handler.name, details: { handles } },
      );
    }
    if (handler._responder) {
      throw new SgError(
        'SG_ERR_INVALID_ERROR_HANDLER',
        `error handler '${handler.name}' may not be marked with respond()`,
        {
          step: handler.name,
          details: { handles },
        },
      );
    }
    if (handler._graph === this) {
      if (!this._handlers.has(handler.name)) {
        throw new SgError(
          'SG_ERR_INVALID_ERROR_HANDLER',
          `step '${handler.name}' is already a regular step of the graph; an error handler is reachable only through errors`,
          { step: handler.name, details: { handles } },
        );
      }
      return;
    }
    this.attach(handler);
    this._handlers.add(handler.name);
  }
}

const GRAPH_BRAND = Symbol.for('servegraph.Graph');
Object.defineProperty(Graph.prototype, GRAPH_BRAND, { value: true });

/** Whether `v` is a Graph of any copy of servegraph (a graph module may import another copy than the CLI's). */
export function isGraph(v: unknown): v is Graph {
  return v !== null && typeof v === 'object' && (v as Record<symbol, unknown>)[GRAPH_BRAND] === true;
}

/** SG_ERR_INVALID_OPTION unless `v` is a step. */
export function createGraph(options: GraphOptions = {}): Graph {
  return new Graph(options);
}
