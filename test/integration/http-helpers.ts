import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import net from 'node:net';

export type RawResponse = {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json: () => unknown;
};

export type RawRequest = {
  method?: string;
  path?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
};

/** One request on a fresh connection (node:http: repeated headers and raw paths are sent as given). */
export function send(url: string, req: RawRequest = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const headers: OutgoingHttpHeaders = { ...req.headers };
    // node:http sends a GET body with neither length nor chunking unless told
    if (req.body !== undefined && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined)
      headers['content-length'] = Buffer.byteLength(req.body);
    const r = http.request(
      { host: hostname, port, method: req.method ?? 'GET', path: req.path ?? '/', headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

/** POST a JSON body. */
export function postJson(url: string, body: unknown, path = '/'): Promise<RawResponse> {
  return send(url, {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** A promise with its resolve function, to hold a step until the test releases it. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Raw bytes on one TCP connection, for pipelined requests; collects everything until the server closes it. */
export function openSocket(url: string): Promise<{ write: (s: string) => void; closed: Promise<string> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        data += d;
      });
      const closed = new Promise<string>((r) => socket.on('close', () => r(data)));
      resolve({ write: (s) => socket.write(s), closed });
    });
    socket.on('error', reject);
  });
}

/** Wait until `check` holds, polling; fails after `seconds`. */
export async function until(check: () => boolean, seconds = 5): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
