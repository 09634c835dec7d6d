import { performance } from 'node:perf_hooks';
import { BatchSlots } from '../engine/batch-slots.js';
import { isThenable } from '../engine/context.js';
import { cloneOrThrow, Event } from '../engine/event.js';
import type { CompileContext, Outlet, Processor } from '../engine/processor.js';
import { SgError } from '../errors/index.js';
import { modelError } from '../executors/inline-executor.js';
import { readPath, writePath } from '../graph/paths.js';
import type { CallSink } from '../monitoring/types.js';
import { ModelCall } from './model-call.js';
import type { ModelRunnerStep } from './model-runner-step.js';
import { type Failure, failureSlot, runnerError, selectorFailed } from './runner-errors.js';
import type { RunnerPlan, Target } from './runner-plan.js';
import { collectModelStream, selectionError, streamModel } from './runner-stream.js';
import { pickTargets } from './selection.js';

/** How one endpoint's call went. */
type Outcome = { ok: true; value: unknown } | { ok: false; error: SgError };
type Running = {
  target: Target;
  call: ModelCall;
  startedAt: number;
  t0: number;
  durationMs: number;
  outcome: Outcome | undefined;
  settle: Promise<void> | undefined;
  /** why the call's signal fired before the call settled (undefined: it did not) */
  abortReason?: unknown;
  /** counted in the endpoint's in-flight gauge until it settles */
  inFlight: boolean;
};

/**
 * The per-event work of a ModelRunnerStep (model-runner.md sections 4 to 6 and 11): select, call every
 * selected endpoint in its executor, wait for all, merge by endpoint name, apply `raiseException`,
 * record each call. Synchronous (naive) models run without a Promise.
 */
export class RunnerProcessor implements Processor {
  private readonly step: string;
  private readonly endpointCount: number;
  private readonly raise: boolean;
  private readonly monitor: CallSink | undefined;
  private readonly streaming: { readonly enabled: boolean; readonly maxBufferedChunks: number };

  constructor(
    runner: ModelRunnerStep,
    private readonly plan: RunnerPlan,
    ctx: CompileContext,
  ) {
    this.step = runner.name;
    this.endpointCount = plan.targets.length;
    this.raise = runner.raiseException;
    this.monitor = ctx.monitor;
    this.streaming = ctx.streaming;
  }

  process(ev: Event, out: Outlet): void | Promise<void> {
    const selected = this.select(ev);
    if (isThenable(selected)) return (selected as Promise<Target[]>).then((t) => this.run(ev, out, t));
    return this.run(ev, out, selected as Target[]);
  }

  private select(ev: Event): Target[] | Promise<Target[]> {
    const selector = this.plan.selector;
    if (selector === undefined) return this.plan.targets;
    let r: unknown;
    try {
      r = selector.select(ev, this.plan.entries);
    } catch (err) {
      throw selectorFailed(this.step, err);
    }
    if (isThenable(r)) {
      return Promise.resolve(r).then(
        (v) => pickTargets(this.plan, v, this.step),
        (err: unknown) => {
          throw selectorFailed(this.step, err);
        },
      );
    }
    return pickTargets(this.plan, r, this.step);
  }

  private run(ev: Event, out: Outlet, targets: Target[]): void | Promise<void> {
    if (this.streaming.enabled && this.plan.streams) {
      const streamer = targets.find((t) => t.traits?.streams);
      if (streamer !== undefined) {
        if (targets.length > 1) throw selectionError(this.step, targets);
        return streamModel({
          ev,
          out,
          target: streamer,
          step: this.step,
          endpointCount: this.endpointCount,
          maxBufferedChunks: this.streaming.maxBufferedChunks,
          monitor: this.monitor,
          makeCall: (e, t, input) => this.makeCall(e, t, input, undefined),
        });
      }
    }
    const members = ev.batch !== undefined && ev._owner instanceof BatchSlots ? ev._owner.members : undefined;
    const running: Running[] = [];
    let waits: Promise<void>[] | undefined;
    for (const t of targets) {
      const r = this.start(ev, t, members);
      running.push(r);
      if (r.settle !== undefined) (waits ??= []).push(r.settle);
    }
    const finish = () =>
      members === undefined ? this.finishOne(ev, out, running) : this.finishBatch(ev, out, running, members);
    if (waits === undefined) return finish();
    // one async model (the common case) needs no Promise.all
    return (waits.length === 1 ? waits[0] : Promise.all(waits)).then(finish);
  }

  /** Issue one endpoint's call; a synchronous model's outcome is known at once. */
  private start(ev: Event, t: Target, members: readonly Event[] | undefined): Running {
    const r: Running = {
      target: t,
      call: undefined as unknown as ModelCall,
      startedAt: Date.now(),
      t0: performance.now(),
      durationMs: 0,
      outcome: undefined,
      settle: undefined,
      inFlight: false,
    };
    const path = t.def.inputPath;
    let input: unknown;
    try {
      if (members === undefined) input = path === undefined ? ev.body : readPath(ev.body, path, this.step);
      else input = memberBodies(ev, members).map((b) => (path === undefined ? b : readPath(b, path, this.step)));
    } catch (err) {
      r.call = this.makeCall(ev, t, undefined, members);
      this.settle(r, { ok: false, error: modelError(err, this.step, t.name) });
      return r;
    }
    r.call = this.makeCall(ev, t, input, members);
    if (t.inFlight !== undefined) {
      t.inFlight.inc();
      r.inFlight = true;
    }
    let value: unknown;
    try {
      // a streaming model without predict, when nothing streams (streaming disabled): collect its stream
      value = t.traits?.streams && !t.traits.predicts ? collectModelStream(t, r.call) : t.executor.call(r.call);
    } catch (err) {
      this.settle(r, { ok: false, error: modelError(err, this.step, t.name) });
      return r;
    }
    if (isThenable(value)) {
      r.settle = Promise.resolve(value).then(
        (v) => this.settle(r, { ok: true, value: v }),
        (err: unknown) => this.settle(r, { ok: false, error: modelError(err, this.step, t.name) }),
      );
    } else {
      this.settle(r, { ok: true, value });
    }
    return r;
  }

  private makeCall(ev: Event, t: Target, input: unknown, members: readonly Event[] | undefined): ModelCall {
    const trace = ev._meta?.trace as { traceparent: string; tracestate?: string } | undefined;
    return new ModelCall(
      t.modelName,
      input,
      {
        endpointName: t.name,
        step: this.step,
        eventId: ev.id,
        path: ev.path,
        batch: members ? { size: members.length } : undefined,
        trace,
      },
      t.def.timeoutMs,
      ev._owner,
      t.entry.modelArtifact,
    );
  }

  private settle(r: Running, outcome: Outcome): void {
    if (r.inFlight) {
      r.inFlight = false;
      r.target.inFlight!.dec();
    }
    r.durationMs = performance.now() - r.t0;
    r.outcome = outcome;
    r.abortReason = r.call.abortReason();
  }

  /** A single event: the new body is the result (one endpoint) or the results keyed by endpoint. */
  private finishOne(ev: Event, out: Outlet, running: Running[]): void {
    const failures: Failure[] = [];
    const results: unknown[] = [];
    for (const r of running) {
      const result = this.resultOf(ev.body, r, running.length === 1 && this.endpointCount === 1);
      if (!r.outcome!.ok) failures.push({ name: r.target.name, error: r.outcome!.error });
      results.push(result);
      this.note(ev, r, r.outcome!);
      this.record(ev.id, r, r.outcome!, 1, r.call.input);
    }
    const body = this.merge(running, results);
    if (this.raise && failures.length > 0) throw runnerError(this.step, failures, body);
    ev.body = body;
    out.emit(ev);
  }

  /** A batch: one call per endpoint for all members; each member gets the body it would get alone. */
  private finishBatch(ev: Event, out: Outlet, running: Running[], members: readonly Event[]): void {
    const size = members.length;
    const bodies = memberBodies(ev, members);
    const fullEvent = isMemberEventArray(ev.body, members);
    // a call that failed, or whose output is not one item per member, fails for every member
    for (const r of running) {
      const o = r.outcome!;
      if (o.ok && !(Array.isArray(o.value) && o.value.length === size)) {
        const got = Array.isArray(o.value) ? `${o.value.length} items` : 'a value that is not an array';
        r.outcome = {
          ok: false,
          error: new SgError(
            'SG_ERR_BATCH_SIZE_MISMATCH',
            `runner '${this.step}', endpoint '${r.target.name}' returned ${got} for a batch of ${size}`,
            {
              step: this.step,
              endpoint: r.target.name,
              details: { expected: size, received: Array.isArray(o.value) ? o.value.length : null },
            },
          ),
        };
      }
      this.note(ev, r, r.outcome!);
    }
    const whole = running
      .filter((r) => !r.outcome!.ok)
      .map((r) => ({ name: r.target.name, error: (r.outcome as { error: SgError }).error }));
    const newBodies: unknown[] = [];
    for (let i = 0; i < size; i++) {
      const failures: Failure[] = [];
      const results: unknown[] = [];
      for (const r of running) {
        const o = r.outcome!;
        const item: Outcome = !o.ok ? o : itemOutcome((o.value as unknown[])[i], this.step, r.target.name);
        const one = { ...r, outcome: item };
        results.push(this.resultOf(bodies[i], one, false));
        if (!one.outcome.ok) failures.push({ name: r.target.name, error: one.outcome.error });
        this.record(members[i].id, r, one.outcome, size, (r.call.input as unknown[] | undefined)?.[i], i === 0);
      }
      const body = this.merge(running, results);
      newBodies.push(
        this.raise && failures.length > 0 && whole.length === 0 ? runnerError(this.step, failures, body) : body,
      );
    }
    if (this.raise && whole.length > 0) throw runnerError(this.step, whole, newBodies);
    if (!fullEvent) {
      ev.body = newBodies;
    } else {
      for (let i = 0; i < size; i++) {
        const b = newBodies[i];
        if (b instanceof SgError) out.fail(members[i], b);
        else members[i].body = b;
      }
    }
    out.emit(ev);
  }

  /** An endpoint's result: its output (at `resultPath` of a copy of the body), or its failure slot. */
  private resultOf(body: unknown, r: Running, inPlace: boolean): unknown {
    const o = r.outcome!;
    if (!o.ok) return failureSlot(o.error);
    const rp = r.target.def.resultPath;
    if (rp === undefined) return o.value;
    try {
      const target = inPlace ? body : cloneOrThrow(body, 'body');
      writePath(target, rp, o.value, this.step);
      return target;
    } catch (err) {
      r.outcome = { ok: false, error: modelError(err, this.step, r.target.name) };
      return failureSlot(r.outcome.error);
    }
  }

  /** One endpoint: its result; several: `{ [endpoint]: result }` in selection order; none selected: `{}`. */
  private merge(running: Running[], results: unknown[]): unknown {
    if (this.endpointCount === 1 && running.length === 1) return results[0];
    const body: Record<string, unknown> = {};
    for (let i = 0; i < running.length; i++) body[running[i].target.name] = results[i];
    return body;
  }

  /** event.meta.models[endpoint] = { step, when, durationMs, error?, code? } (model-runner.md section 5). */
  private note(ev: Event, r: Running, o: Outcome): void {
    const meta = ev.meta;
    const models = (meta.models ??= {}) as Record<string, unknown>;
    const entry: Record<string, unknown> = {
      step: this.step,
      when: new Date(r.startedAt).toISOString(),
      durationMs: Math.round(r.durationMs * 1000) / 1000,
    };
    if (!o.ok) Object.assign(entry, failureSlot(o.error));
    models[r.target.name] = entry;
  }

  private record(eventId: string, r: Running, o: Outcome, batchSize: number, input: unknown, first = true): void {
    const monitor = this.monitor;
    if (monitor === undefined) return;
    // aborted: the call's signal fired before it settled (client gone, deadline, server closing), recorded
    // with the abort reason's code; a call that overran its own timeoutMs is an error (monitoring.md section 4)
    const reason = r.abortReason;
    const aborted = reason !== undefined && !(reason instanceof SgError && reason.code === 'SG_ERR_MODEL_TIMEOUT');
    let error = o.ok ? undefined : { code: o.error.code, message: o.error.message };
    if (aborted) {
      const why = reason instanceof SgError ? reason : undefined;
      error = {
        code: why?.code ?? error?.code ?? 'SG_ERR_CLIENT_CLOSED',
        message: why?.message ?? error?.message ?? String(reason),
      };
    }
    const started = r.call.startedAt;
    monitor.record({
      endpoint: r.target.name,
      eventId,
      startedAt: r.startedAt,
      latencyMs: r.durationMs,
      // dispatch → the model starting in its executor; null for naive (and for executors that do not report it)
      queueMs: r.target.def.mechanism === 'naive' || started === undefined ? null : Math.max(0, started - r.t0),
      error,
      aborted,
      batchSize,
      firstOfBatch: first,
      usage: r.call.usage,
      input,
      output: o.ok ? o.value : undefined,
    });
  }
}

/** The members' bodies: the batch body array, or (a fullEvent batch) each member event's body. */
function memberBodies(ev: Event, members: readonly Event[]): unknown[] {
  if (isMemberEventArray(ev.body, members)) return members.map((m) => m.body);
  if (Array.isArray(ev.body) && ev.body.length === members.length) return ev.body;
  throw new SgError('SG_ERR_BATCH_SIZE_MISMATCH', `the batch body is not an array of ${members.length} items`, {
    details: { expected: members.length },
  });
}

function isMemberEventArray(body: unknown, members: readonly Event[]): boolean {
  return (
    Array.isArray(body) &&
    body.length === members.length &&
    body.every((x, i) => x instanceof Event && x === members[i])
  );
}

/** Item `i` of a batch output: an Error item fails that member only (batching.md, "Errors in a batch"). */
function itemOutcome(item: unknown, step: string, endpoint: string): Outcome {
  if (item instanceof Error) return { ok: false, error: modelError(item, step, endpoint) };
  return { ok: true, value: item };
}
