import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describe, SgError } from '../../../errors/index.js';
import { valueAtPath } from '../../../util/dotted-path.js';
import type { HttpContext } from '../context.js';
import { sendError } from '../errors.js';
import { admission, runEvent } from '../graph-route.js';
import { parseJsonBody } from '../json.js';
import { stateOf } from '../request-state.js';
import { eventInitOf } from '../request-to-event.js';
import { type CompletionHead, chunkEncoder, completionObject, replyText } from './completion.js';

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);
export const OPENAI_ROUTES = ['/v1/chat/completions', '/v1/models', '/v1/models/:id'];

/** Whether a request path is one of the front's (its errors then take OpenAI's shape). */
export function isOpenAIPath(path: string): boolean {
  return path === '/v1/chat/completions' || path === '/v1/models' || path.startsWith('/v1/models/');
}

function bad(message: string, param: string | null, code = 'SG_ERR_BAD_REQUEST'): SgError {
  return new SgError(code, message, { details: { param } });
}

/** Check the request object (http.md, "Request"); returns whether it streams and asks for usage. */
function checkRequest(body: unknown, model: string): { stream: boolean; includeUsage: boolean } {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw bad(`the request must be a JSON object, got ${describe(body)}`, null);
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string') throw bad(`model must be a string, got ${describe(b.model)}`, 'model');
  if (b.model !== model)
    throw bad(`the model '${b.model}' does not exist; this server serves '${model}'`, 'model', 'SG_ERR_NOT_FOUND');
  if (!Array.isArray(b.messages) || b.messages.length === 0)
    throw bad('messages must be a non-empty array', 'messages');
  b.messages.forEach((m: unknown, i: number) => {
    if (m === null || typeof m !== 'object' || Array.isArray(m))
      throw bad(`messages[${i}] must be an object`, 'messages');
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || !ROLES.has(role)) {
      throw bad(`messages[${i}].role must be one of ${[...ROLES].join(', ')}`, 'messages');
    }
    const ok = typeof content === 'string' || Array.isArray(content) || (content === null && role === 'assistant');
    if (!ok) throw bad(`messages[${i}].content must be a string or an array of content parts`, 'messages');
  });
  if (b.stream !== undefined && typeof b.stream !== 'boolean') throw bad('stream must be a boolean', 'stream');
  if (b.n !== undefined && b.n !== 1) throw bad('n must be 1: several choices are not supported', 'n');
  const so = b.stream_options as { include_usage?: unknown } | null | undefined;
  return { stream: b.stream === true, includeUsage: so?.include_usage === true };
}

/** The value at a dotted `answerPath` of the reply, undefined when missing. */
function atPath(r: unknown, path: string | undefined): unknown {
  return path === undefined ? r : valueAtPath(r, path);
}

/**
 * The OpenAI-compatible front (http.md, last section): `POST /v1/chat/completions` runs the graph with the
 * request as the body and answers in OpenAI's shapes, JSON or SSE chunks; `GET /v1/models[/:id]`.
 */
export function installOpenAIFront(fastify: FastifyInstance, ctx: HttpContext, methods: string[]): void {
  const front = ctx.options.openai;
  if (front === false) return;
  const startedAt = Math.floor(Date.now() / 1000);
  const modelObject = { id: front.model, object: 'model', created: startedAt, owned_by: 'servegraph' };
  const { retryAfterSeconds } = ctx.options;
  const notAllowed = (allow: string) => (request: FastifyRequest, reply: FastifyReply) =>
    sendError(
      reply,
      new SgError('SG_ERR_METHOD_NOT_ALLOWED', `${request.url} answers ${allow} only, not ${request.method}`, {
        details: { allow },
      }),
      retryAfterSeconds,
    );

  fastify.route({
    method: 'POST',
    url: '/v1/chat/completions',
    onRequest: admission(ctx, '/v1/chat/completions'),
    handler: (request, reply) => handleCompletion(ctx, request, reply, front.model, front.path, front.answerPath),
  });
  fastify.route({
    method: methods.filter((m) => m !== 'POST'),
    url: '/v1/chat/completions',
    handler: notAllowed('POST'),
  });
  fastify.route({
    method: ['GET', 'HEAD'],
    url: '/v1/models',
    handler: (_q, reply) => sendJson(reply, { object: 'list', data: [modelObject] }),
  });
  fastify.route({
    method: ['GET', 'HEAD'],
    url: '/v1/models/:id',
    handler: (request, reply) => {
      const { id } = request.params as { id: string };
      if (id === front.model) sendJson(reply, modelObject);
      else
        sendError(
          reply,
          bad(`the model '${id}' does not exist; this server serves '${front.model}'`, 'model', 'SG_ERR_NOT_FOUND'),
          retryAfterSeconds,
        );
    },
  });
  for (const url of ['/v1/models', '/v1/models/:id']) {
    fastify.route({
      method: methods.filter((m) => m !== 'GET' && m !== 'HEAD'),
      url,
      handler: notAllowed('GET, HEAD'),
    });
  }
}

function sendJson(reply: FastifyReply, body: unknown): void {
  reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

function handleCompletion(
  ctx: HttpContext,
  request: FastifyRequest,
  reply: FastifyReply,
  model: string,
  path: string,
  answerPath: string | undefined,
): void {
  const { options } = ctx;
  if (reply.raw.destroyed) return;
  if (ctx.draining) {
    sendError(
      reply,
      new SgError('SG_ERR_SERVER_CLOSED', 'the server is shutting down: no new requests'),
      options.retryAfterSeconds,
    );
    return;
  }
  const state = stateOf(request);
  let body: Record<string, unknown>;
  let mode: { stream: boolean; includeUsage: boolean };
  try {
    // a plain `application/json` body arrives as text, any other as bytes (lifecycle.ts)
    const raw = request.body;
    const text = typeof raw === 'string' ? raw : raw instanceof Buffer ? raw.toString('utf8') : '';
    body = parseJsonBody(text) as Record<string, unknown>;
    mode = checkRequest(body, model);
  } catch (err) {
    sendError(reply, err instanceof SgError ? err : bad(String(err), null), options.retryAfterSeconds);
    return;
  }
  // the event's body: the request without stream and stream_options (http.md, "Event")
  const { stream: _s, stream_options: _so, ...eventBody } = body;
  const init = eventInitOf(request.raw, path, request.id, eventBody, 'application/json', state.arrivedAt);
  init.method = 'POST';
  const head: CompletionHead = { id: `chatcmpl-${init.id}`, created: Math.floor(state.arrivedAt / 1000), model };
  runEvent(ctx, reply, state, init, {
    hasResponder: true,
    sendBody: (_reply, r) => sendJson(reply, completionObject(head, replyText(atPath(r, answerPath)))),
    stream: mode.stream
      ? { encoder: chunkEncoder(head, mode.includeUsage, (r) => atPath(r, answerPath)), explicit: true }
      : undefined,
  });
}
