import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { SgError } from '../../errors/index.js';
import { sendError } from './errors.js';
import type { ReplyCoalescer } from './reply-coalescer.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** How a server writes its plain replies, fixed at start. */
export type ReplyWriting = {
  retryAfterSeconds: number;
  /** headers set through fastify by a hook (CORS) go out with the reply */
  hookHeaders: boolean;
  /** where the responses are ended: with the other replies of their event-loop turn */
  ends: ReplyCoalescer;
};

/**
 * A decided reply as http.md's "The non-streamed reply": `undefined` is 204, bytes are octet-stream, any
 * other value is JSON (a string as a JSON string).
 */
export function sendReply(reply: FastifyReply, body: unknown, status: 200 | 202, w: ReplyWriting): void {
  if (body === undefined) {
    writeReply(reply, 204, undefined, undefined, w);
    return;
  }
  if (body instanceof Uint8Array) {
    const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    writeReply(reply, status, 'application/octet-stream', bytes, w);
    return;
  }
  let json: string | undefined;
  let cause: unknown;
  try {
    json = JSON.stringify(body);
  } catch (err) {
    cause = err;
  }
  if (json === undefined) {
    const why = cause instanceof Error ? cause.message : `a ${typeof body} has no JSON form`;
    sendError(
      reply,
      new SgError('SG_ERR_INTERNAL', `the graph's reply cannot be sent as JSON: ${why}`, { cause }),
      w.retryAfterSeconds,
    );
    return;
  }
  writeReply(reply, status, JSON_TYPE, json, w);
}

/**
 * Write a whole response to the socket ourselves (fastify is told it is taken). fastify's send path (its
 * header object, onSend hooks, serializer lookup) was ~6% of the CPU of a small graph request, and the
 * graph's replies use none of it; errors still go through fastify (sendError).
 */
function writeReply(
  reply: FastifyReply,
  status: number,
  type: string | undefined,
  payload: string | Buffer | undefined,
  w: ReplyWriting,
): void {
  const id = reply.request.id;
  const own =
    payload === undefined
      ? ['x-request-id', id]
      : ['content-type', type!, 'content-length', byteLength(payload), 'x-request-id', id];
  w.ends.end(takeOver(reply, status, own, w.hookHeaders), payload);
}

/**
 * Take the response from fastify and write its status line and headers: `own`, a flat name/value list
 * (Node walks it without the own-property checks an object takes), after those a hook set through fastify
 * (CORS) when `hookHeaders`. Returns the raw response, for the body.
 */
export function takeOver(reply: FastifyReply, status: number, own: string[], hookHeaders: boolean): ServerResponse {
  reply.hijack();
  const res = reply.raw;
  if (!hookHeaders) {
    res.writeHead(status, own);
    return res;
  }
  const headers: Record<string, string | number | string[] | undefined> = reply.getHeaders();
  for (const name in headers) if (headers[name] === undefined) delete headers[name];
  for (let i = 0; i < own.length; i += 2) headers[own[i]!] = own[i + 1];
  res.writeHead(status, headers as Record<string, string | number | string[]>);
  return res;
}

function byteLength(payload: string | Buffer): string {
  return String(typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length);
}
