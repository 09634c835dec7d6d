import { performance } from 'node:perf_hooks';
import type { FastifyRequest } from 'fastify';
import { type HttpRouteSeries, OTHER_ROUTE } from '../../monitoring/metrics/http-series.js';
import type { HttpContext } from './context.js';
import { stateOf } from './request-state.js';

/**
 * The HTTP series of monitoring.md section 9 (`route` = the route pattern, `other` without one). A request is
 * bound to its route's series by the route's entry hook, which knows its pattern (fastify's `routeOptions` would
 * build an object per request to tell it): admission() for the graph's routes, the entry lifecycle.ts adds to
 * every other route. A request answered before its route's hooks run (a 401) is bound when it closes.
 */

/** Count the request in flight on `route` from now (once). */
export function bindSeries(ctx: HttpContext, request: FastifyRequest, route: string): void {
  const series = ctx.httpSeries;
  if (series !== undefined) bindRouteSeries(request, series.route(route));
}

/** bindSeries with the route's series found once, by the route's own hook */
export function bindRouteSeries(request: FastifyRequest, route: HttpRouteSeries): void {
  const state = stateOf(request);
  if (state.series !== undefined) return;
  state.series = route.method(request.method);
  state.series.started();
}

/** Count the request on `route` instead of the route it matched (a route that calls the 404 handler). */
export function rebindSeries(ctx: HttpContext, request: FastifyRequest, route: string): void {
  const state = stateOf(request);
  if (state.series !== undefined) {
    state.series.moved();
    state.series = undefined;
  }
  bindSeries(ctx, request, route);
}

/** The response of a request closed: its status (499: cut by the client) and duration. */
export function endSeries(ctx: HttpContext, request: FastifyRequest, status: number): void {
  const state = stateOf(request);
  // not bound yet: answered by a global hook (auth, CORS) before its route's own hooks ran
  if (state.series === undefined) bindSeries(ctx, request, request.is404 ? OTHER_ROUTE : routeOf(request));
  state.series?.ended(status, (performance.now() - state.startedAt) / 1000);
}

function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? OTHER_ROUTE;
}
