import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** One request a test server received (llm.md section 5); updated in place when its exchange ends. */
export type RecordedRequest = {
  method: string;
  /** the request target as sent: path and query string */
  path: string;
  headers: IncomingHttpHeaders;
  /** the body parsed as JSON; the raw string when it is not JSON; null when empty */
  body: unknown;
  /** `Date.now()` when the request arrived */
  receivedAt: number;
  /** `Date.now()` when the exchange ended (the reply finished or the connection closed); null while open */
  closedAt: number | null;
  /** true when the client closed the connection before the reply ended */
  clientAborted: boolean;
};

/** One request in flight: its record, and a signal that fires when its connection or reply closes. */
export type Exchange = {
  readonly entry: RecordedRequest;
  readonly signal: AbortSignal;
  /** Destroy the connection on purpose (a cut stream): not recorded as a client abort. */
  cut(): void;
};

/** Records every request of a server, in arrival order, in a live array. */
export class Recorder {
  readonly requests: RecordedRequest[] = [];
  private readonly exchanges = new WeakMap<IncomingMessage, Exchange>();
  private closing = false;

  /** Start recording a request as soon as it arrives (fastify's onRequest), and watch its connection. */
  track(req: IncomingMessage, res: ServerResponse): Exchange {
    const entry: RecordedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body: null,
      receivedAt: Date.now(),
      closedAt: null,
      clientAborted: false,
    };
    const controller = new AbortController();
    let cutByServer = false;
    const onClose = () => {
      res.off('close', onClose);
      req.socket.off('close', onClose);
      if (entry.closedAt !== null) return;
      entry.closedAt = Date.now();
      entry.clientAborted = !res.writableFinished && !cutByServer && !this.closing;
      controller.abort();
    };
    // 'close' on the response fires once the reply is sent or the connection is gone, whichever is first;
    // the socket's own 'close' is watched too, so an abort is seen even before the reply is under way.
    res.once('close', onClose);
    req.socket.once('close', onClose);
    const exchange: Exchange = {
      entry,
      signal: controller.signal,
      cut: () => {
        cutByServer = true;
        res.destroy();
        req.socket.destroy();
      },
    };
    this.requests.push(entry);
    this.exchanges.set(req, exchange);
    return exchange;
  }

  /** The exchange of `req`, with the parsed body now set on its record. */
  exchange(req: IncomingMessage, res: ServerResponse, body: unknown): Exchange {
    const ex = this.exchanges.get(req) ?? this.track(req, res);
    ex.entry.body = body === undefined ? null : body;
    return ex;
  }

  /** The server is closing: the connections it destroys now are not client aborts. */
  markClosing(): void {
    this.closing = true;
  }
}

/** A request body parsed as JSON when it is JSON; else the raw string; null when empty. */
export function parseBody(raw: string): unknown {
  if (raw === '') return null;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
