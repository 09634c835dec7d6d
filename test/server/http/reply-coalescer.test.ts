import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { ReplyCoalescer } from '../../../src/server/http/reply-coalescer.js';

/**
 * Real responses of a loopback server: each test opens `n` requests, holds their responses, then ends them
 * through a coalescer and checks when each was ended (its `writableEnded` turns true at `end()`).
 */
const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function responses(n: number): Promise<{ res: ServerResponse[]; bodies: Promise<string[]> }> {
  const held: ServerResponse[] = [];
  let all: () => void = () => {};
  const arrived = new Promise<void>((resolve) => {
    all = resolve;
  });
  const server = createServer((_req, res) => {
    held.push(res);
    if (held.length === n) all();
  });
  servers.push({
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const bodies = Array.from(
    { length: n },
    (_, i) =>
      new Promise<string>((resolve, reject) => {
        const req = request({ port, host: '127.0.0.1', path: `/${i}`, agent: false }, (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => (text += c));
          r.on('end', () => resolve(text));
          r.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      }),
  );
  await arrived;
  // in the order the requests were sent: the server may see them in another
  held.sort((a, b) => Number(a.req.url!.slice(1)) - Number(b.req.url!.slice(1)));
  return { res: held, bodies: Promise.all(bodies) };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function busyFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('ReplyCoalescer', () => {
  test('replies decided in one turn are ended together at its end, in the order decided', async () => {
    const { res, bodies } = await responses(3);
    const c = new ReplyCoalescer(1000);
    c.end(res[2]!, 'two');
    c.end(res[0]!, 'zero');
    expect(res.map((r) => r.writableEnded)).toEqual([false, false, false]);
    // a microtask of the same turn does not see them ended either
    await Promise.resolve();
    expect(res[0]!.writableEnded).toBe(false);
    c.end(res[1]!, 'one');
    await nextTurn();
    expect(res.map((r) => r.writableEnded)).toEqual([true, true, true]);
    expect(await bodies).toEqual(['zero', 'one', 'two']);
  });

  test('maxHoldMs 0 ends every reply at once', async () => {
    const { res, bodies } = await responses(2);
    const c = new ReplyCoalescer(0);
    c.end(res[0]!, 'a');
    expect(res[0]!.writableEnded).toBe(true);
    c.end(res[1]!, undefined);
    expect(res[1]!.writableEnded).toBe(true);
    expect(await bodies).toEqual(['a', '']);
  });

  test('a reply decided maxHoldMs or more after the oldest held writes them all at once', async () => {
    const { res, bodies } = await responses(5);
    const c = new ReplyCoalescer(5);
    c.end(res[0]!, '0');
    busyFor(20); // a step blocking the loop
    c.end(res[1]!, '1');
    // the held reply went out with the late one
    expect([res[0]!.writableEnded, res[1]!.writableEnded]).toEqual([true, true]);
    // the next one is held again, until the end of the turn
    c.end(res[2]!, '2');
    expect(res[2]!.writableEnded).toBe(false);
    await nextTurn();
    expect(res[2]!.writableEnded).toBe(true);
    c.end(res[3]!, '3');
    c.end(res[4]!, '4');
    expect([res[3]!.writableEnded, res[4]!.writableEnded]).toEqual([false, false]);
    await nextTurn();
    expect([res[3]!.writableEnded, res[4]!.writableEnded]).toEqual([true, true]);
    expect(await bodies).toEqual(['0', '1', '2', '3', '4']);
  });

  test('a response destroyed while held is skipped; the others are written', async () => {
    const { res, bodies } = await responses(2);
    // taken at once: the reset may come before the test reaches its assertions
    const outcome = bodies.then(
      () => 'answered',
      () => 'reset',
    );
    const c = new ReplyCoalescer(1000);
    c.end(res[0]!, 'gone');
    c.end(res[1]!, 'kept');
    res[0]!.destroy();
    await nextTurn();
    expect(res[0]!.writableEnded).toBe(false);
    expect(res[1]!.writableEnded).toBe(true);
    expect(await outcome).toBe('reset'); // the first client's connection was reset
  });
});
