import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SgError } from '../../errors/index.js';
import type { HttpContext } from './context.js';
import { DASHBOARD_CSP, isDashboardPath } from './dashboard/csp.js';
import { sendError } from './errors.js';

/** The dashboard's cookie (http.md, "Limits"): a browser cannot send a Bearer header. */
export const AUTH_COOKIE = 'servegraph_auth';
const OPEN = new Set(['/healthz', '/readyz']);

/** Equal in constant time: both sides hashed first, so neither the length nor a prefix leaks. */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

function bearerOf(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m?.[1];
}

function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * With `authToken`, every route but health, readiness and CORS preflight needs `Authorization: Bearer <token>`
 * (401 SG_ERR_UNAUTHORIZED with `WWW-Authenticate: Bearer` otherwise). The dashboard and the monitoring API
 * also take the dashboard cookie, which `GET /dashboard?token=<token>` sets.
 */
export function installAuth(fastify: FastifyInstance, ctx: HttpContext): void {
  const token = ctx.options.authToken;
  if (token === undefined) return;
  fastify.addHook('onRequest', (request, reply, done) => {
    // it may answer before the route's own hooks: the request enters here (lifecycle.ts)
    ctx.enter(request, reply);
    const path = request.url.split('?', 1)[0] ?? '/';
    if (OPEN.has(path)) return done();
    if (request.method === 'OPTIONS' && ctx.options.cors !== false) return done();
    if (tokenMatches(bearerOf(request), token)) return done();
    const cookieRoute = ctx.reserved.dashboard && isDashboardPath(path);
    const apiRoute = ctx.reserved.monitoringApi && (path === '/endpoints' || path.startsWith('/endpoints/'));
    let given: string | null = null;
    if (cookieRoute || apiRoute) {
      // `GET /dashboard?token=` answers by its token alone: right, 303 with the cookie; wrong, 401
      if (path === '/dashboard' && request.method === 'GET')
        given = new URL(request.url, 'http://x').searchParams.get('token');
      if (given === null && tokenMatches(cookieOf(request, AUTH_COOKIE), token)) return done();
      // the refusal or the redirect below is a dashboard response too
      if (cookieRoute) reply.header('content-security-policy', DASHBOARD_CSP);
      if (given !== null && tokenMatches(given, token)) {
        // the token moves into a cookie and out of the address bar (and the browser's history)
        const url = new URL(request.url, 'http://x');
        url.searchParams.delete('token');
        const rest = url.searchParams.toString();
        reply
          .code(303)
          .header('location', `/dashboard${rest ? `?${rest}` : ''}`)
          .header('set-cookie', `${AUTH_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`)
          .send();
        return;
      }
    }
    reply.header('www-authenticate', 'Bearer');
    sendError(
      reply,
      new SgError(
        'SG_ERR_UNAUTHORIZED',
        given === null
          ? "this server needs Authorization: Bearer <token> (the server's authToken)"
          : "the token parameter is not this server's authToken",
      ),
      ctx.options.retryAfterSeconds,
    );
  });
}
