import type { StreamDone } from '../engine/stream-types.js';

/** What server.testStream() returns: the chunk bodies in order, and the done payload. */
export interface TestStream extends AsyncIterable<unknown> {
  readonly done: Promise<StreamDone>;
}

/**
 * A TestStream over a reply that does not stream: one item, the whole reply (none for `undefined`).
 * The streaming engine replaces this with real chunk delivery for replies that stream.
 */
export function testStreamOf(reply: Promise<unknown>, id: string | undefined): TestStream {
  reply.catch(() => {}); // reported through the iterator and `done`, never unhandled
  let done: Promise<StreamDone> | undefined;
  return {
    get done() {
      done ??= reply.then((body) => ({ id: id ?? '', chunks: body === undefined ? 0 : 1 }));
      return done;
    },
    async *[Symbol.asyncIterator]() {
      const body = await reply;
      if (body !== undefined) yield body;
    },
  };
}
