import type { FastifyReply } from 'fastify';
import { SgError } from '../../errors/index.js';
import { sendError } from './errors.js';

/**
 * A decided reply as http.md's "The non-streamed reply": `undefined` is 204, bytes are octet-stream, any
 * other value is JSON (a string as a JSON string).
 */
export function sendReply(reply: FastifyReply, body: unknown, status: 200 | 202, retryAfterSeconds: number): void {
  if (body === undefined) {
    reply.code(204).send();
    return;
  }
  if (body instanceof Uint8Array) {
    const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    reply.code(status).type('application/octet-stream').send(bytes);
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
      retryAfterSeconds,
    );
    return;
  }
  reply.code(status).type('application/json; charset=utf-8').send(json);
}
