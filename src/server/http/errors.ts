import type { FastifyReply } from 'fastify';
import { SgError } from '../../errors/index.js';
import { openAIError } from './openai/completion.js';
import { stateOf } from './request-state.js';

/** The error body of http.md ("Errors"): exactly `code`, `message`, `step` and `endpoint`, null when absent. */
export function errorBody(err: SgError): string {
  return JSON.stringify({
    error: { code: err.code, message: err.message, step: err.step ?? null, endpoint: err.endpoint ?? null },
  });
}

/** An error raised by fastify or Node while reading the request, as the SgError a client gets. */
export function toHttpError(err: unknown, bodyLimit: number): SgError {
  if (err instanceof SgError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new SgError('SG_ERR_BODY_TOO_LARGE', `request body is larger than bodyLimit (${bodyLimit} bytes)`, {
      details: { bodyLimit },
      cause: err,
    });
  }
  if (code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return new SgError('SG_ERR_BAD_REQUEST', 'request body length does not match its Content-Length header', {
      cause: err,
    });
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new SgError('SG_ERR_BAD_REQUEST', `malformed request: ${message}`, { cause: err });
  }
  return new SgError('SG_ERR_INTERNAL', `servegraph failed to handle the request: ${message}`, { cause: err });
}

/** Send `err` as the error body, with its status and the headers its code calls for (http.md, "Errors"). */
export function sendError(reply: FastifyReply, err: SgError, retryAfterSeconds: number): void {
  const status = err.status;
  // the onSend hook sets it too (lifecycle.ts); set here as well for fastify's frameworkErrors replies
  reply.header('x-request-id', reply.request.id);
  if (status === 429 || status === 503) reply.header('retry-after', String(retryAfterSeconds));
  if (err.code === 'SG_ERR_SERVER_CLOSED') reply.header('connection', 'close');
  if (err.code === 'SG_ERR_METHOD_NOT_ALLOWED') {
    const allow = err.details.allow;
    if (typeof allow === 'string') reply.header('allow', allow);
  }
  const state = stateOf(reply.request);
  state.errorCode = err.code;
  // logged once here (with stack and cause); the access line carries the code
  if (status >= 500) reply.log.error({ err, code: err.code }, `request failed: ${err.message}`);
  if (state.openai) {
    // servegraph's providers already retry: the OpenAI SDK should not call a failing model twice more
    if (status >= 500 && status !== 503) reply.header('x-should-retry', 'false');
    reply
      .code(status)
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(openAIError(err)));
    return;
  }
  reply.code(status).type('application/json; charset=utf-8').send(errorBody(err));
}
