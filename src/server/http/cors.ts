import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from './context.js';

/** `cors: true` (http.md, "Limits"): any origin, the methods and headers servegraph's routes use. */
const DEFAULTS: FastifyCorsOptions = {
  origin: '*',
  methods: ['GET', 'POST', 'OPTIONS'],
  allowedHeaders: ['Content-Type', 'Authorization', 'Accept', 'X-Request-Id'],
  exposedHeaders: ['X-Request-Id'],
  optionsSuccessStatus: 204,
  preflight: true,
  strictPreflight: false,
};

/** CORS headers and preflight on every path, when `cors` is set; an object goes to @fastify/cors as it is. */
export async function installCors(fastify: FastifyInstance, ctx: HttpContext): Promise<void> {
  const option = ctx.options.cors;
  if (option === false) return;
  await fastify.register(cors, option === true ? DEFAULTS : (option as FastifyCorsOptions));
}
