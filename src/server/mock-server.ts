import { z } from 'zod';
import type { EventInit } from '../engine/event.js';
import { consumerGone } from '../engine/stream.js';
import { SgError } from '../errors/index.js';
import type { Graph } from '../graph/graph.js';
import { parseOptions, trackingSchema } from '../graph/settings.js';
import type { Monitor } from '../monitoring/monitor.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../util/logger.js';
import { mockEventInit, type TestOptions } from './event-init.js';
import { createMonitor } from './monitor.js';
import { GraphRuntime } from './runtime.js';
import { failedTestStream, type TestStream, TestStreamConsumer } from './test-stream.js';

export type MockServerOptions = {
  logLevel?: LogLevel;
  /** events in flight at once; one more is refused with SG_ERR_OVERLOADED; 0: no limit */
  maxConcurrency?: number;
  /** monitoring options (monitoring.md section 3), or false */
  tracking?: z.infer<typeof trackingSchema> | false;
};

const optionsSchema = z
  .object({
    logLevel: z.enum(LOG_LEVELS as [LogLevel, ...LogLevel[]]).optional(),
    maxConcurrency: z.number().int().min(0).optional(),
    tracking: z.union([z.literal(false), trackingSchema]).optional(),
  })
  .strict();

const closeSchema = z.object({ graceMs: z.number().min(0).optional() }).strict();

/** A graph served in-process, with no network (graph.md section 10; MLRun `to_mock_server`). */
export class MockServer {
  /** @internal */
  readonly _runtime: GraphRuntime;
  /** Endpoint and call queries (monitoring.md section 8); in `sqlite::memory:` unless told otherwise. */
  readonly monitoring: Monitor;

  /** @internal use createMockServer() */
  constructor(graph: Graph, options: MockServerOptions = {}) {
    const o = parseOptions(optionsSchema, options, 'createMockServer');
    const logger = createLogger(o.logLevel ?? 'warn');
    this.monitoring = createMonitor(graph, o.tracking, 'sqlite::memory:', logger);
    this._runtime = new GraphRuntime(graph, {
      logger,
      maxConcurrency: o.maxConcurrency ?? 1024,
      monitor: this.monitoring,
    });
    this.monitoring.whenStarted(this._runtime.ready);
  }

  /** Resolves when every step and model is started; rejects with the first start-up error. */
  ready(): Promise<void> {
    return this._runtime.ready;
  }

  /** Send one event and resolve with its reply (graph.md section 3). */
  test(path?: string, body?: unknown, options?: TestOptions): Promise<unknown> {
    let init: EventInit;
    try {
      init = mockEventInit(path, body, options);
    } catch (err) {
      return Promise.reject(err);
    }
    const rt = this._runtime;
    if (!rt.isReady) return rt.ready.then(() => this.send(init));
    return this.send(init);
  }

  /** Like test(), yielding the streamed chunks of the reply in order (streaming.md, "The mock server"). */
  testStream(path?: string, body?: unknown, options?: TestOptions & { fullEvent?: boolean }): TestStream {
    if (!this._runtime.hasResponder) {
      return failedTestStream(
        new SgError('SG_ERR_NO_RESPONDER', 'testStream() needs a graph with a responder: mark one step with respond()'),
        undefined,
      );
    }
    let init: EventInit;
    try {
      init = mockEventInit(path, body, options, true);
    } catch (err) {
      return failedTestStream(err, undefined);
    }
    const consumer = new TestStreamConsumer(init.id, options?.fullEvent === true);
    const rt = this._runtime;
    const start = () => {
      try {
        rt.admit();
      } catch (err) {
        consumer.fail(err as SgError);
        return;
      }
      consumer.onEnd = () => rt.leave();
      const slot = rt.submit(init, consumer);
      consumer.cancel = () => slot.cancel(consumerGone());
    };
    if (rt.isReady) start();
    else rt.ready.then(start, (err: unknown) => consumer.fail(err as SgError));
    return consumer;
  }

  /** Stop taking events, let those in flight finish for up to `graceMs` (default 10000), then stop. */
  close(options: { graceMs?: number } = {}): Promise<void> {
    let o: { graceMs?: number };
    try {
      o = parseOptions(closeSchema, options ?? {}, 'close');
    } catch (err) {
      return Promise.reject(err);
    }
    return this._runtime.close(o);
  }

  private send(init: EventInit): Promise<unknown> {
    const rt = this._runtime;
    try {
      rt.admit();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      rt.submit(init, {
        reply(body) {
          rt.leave();
          resolve(body);
        },
        fail(err) {
          rt.leave();
          reject(err);
        },
      });
    });
  }
}

/** Run `graph` in-process: validates synchronously, then starts in the background. */
export function createMockServer(graph: Graph, options: MockServerOptions = {}): MockServer {
  return new MockServer(graph, options);
}
