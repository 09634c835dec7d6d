import { afterEach } from 'vitest';
import type { TestServer } from '../../src/testing/index.js';

/** Shared helpers of the LLM test-server tests. */

export { sleep, waitFor } from '../support/core.js';

const servers: TestServer[] = [];

/** Registers `server` to be closed after the test; returns it. */
export async function track(server: Promise<TestServer>): Promise<TestServer> {
  const s = await server;
  servers.push(s);
  return s;
}

/** Close the servers registered with track() after each test of the file that calls it. */
export function closeServersAfterEach(): void {
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
}

/** POSTs `body` as JSON to `url`. */
export function postJson(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...init,
  });
}

/** The JSON body of `res`, typed as the caller expects it. */
export function jsonOf<T>(res: Response): Promise<T> {
  return res.json() as Promise<T>;
}

/** The `data:` payloads of the complete events of an SSE body, in order. */
export function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .slice(0, -1)
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
}

/** Reads `res`'s body until it has `n` SSE events (or it ends); returns them and the still-open reader. */
export async function readEvents(
  res: Response,
  n: number,
): Promise<{ events: string[]; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (sseData(text).length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return { events: sseData(text), reader };
}
