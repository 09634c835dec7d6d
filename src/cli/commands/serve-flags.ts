import { SgError } from '../../errors/index.js';
import type { ServeOptions } from '../../server/http/options.js';

/** The flags of `servegraph serve` as commander gives them (http.md, `serve`: the options as flags). */
export type ServeFlags = {
  port?: string;
  host: string;
  quiet?: boolean;
  bodyLimit?: string;
  streamFormat?: string;
  requestTimeoutMs?: string;
  heartbeatMs?: string;
  graceMs?: string;
  maxConcurrency?: string;
  cors?: boolean;
  openai: boolean;
};

function integer(text: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new SgError('SG_ERR_INVALID_OPTION', `--${flag} must be an integer from ${min} to ${max}, got '${text}'`, {
      details: { field: flag },
    });
  }
  return n;
}

/** Flags → serve options; the token comes from SERVEGRAPH_AUTH_TOKEN, never from the command line (ps shows it). */
export function serveOptionsOf(flags: ServeFlags, env: NodeJS.ProcessEnv): ServeOptions {
  const o: ServeOptions = {
    port: integer(flags.port ?? env.PORT ?? '8080', 'port', 0, 65535),
    host: flags.host,
    handleSignals: true,
    logger: !flags.quiet,
  };
  if (flags.bodyLimit !== undefined) o.bodyLimit = integer(flags.bodyLimit, 'body-limit', 1);
  if (flags.streamFormat !== undefined) {
    if (!['sse', 'ndjson', 'json'].includes(flags.streamFormat)) {
      throw new SgError(
        'SG_ERR_INVALID_OPTION',
        `--stream-format must be sse, ndjson or json, got '${flags.streamFormat}'`,
        {
          details: { field: 'stream-format' },
        },
      );
    }
    o.streamFormat = flags.streamFormat as ServeOptions['streamFormat'];
  }
  if (flags.requestTimeoutMs !== undefined)
    o.requestTimeoutMs = integer(flags.requestTimeoutMs, 'request-timeout-ms', 0);
  if (flags.heartbeatMs !== undefined) o.heartbeatMs = integer(flags.heartbeatMs, 'heartbeat-ms', 0);
  if (flags.graceMs !== undefined) o.graceMs = integer(flags.graceMs, 'grace-ms', 0);
  if (flags.maxConcurrency !== undefined) o.maxConcurrency = integer(flags.maxConcurrency, 'max-concurrency', 0);
  if (flags.cors) o.cors = true;
  if (!flags.openai) o.openai = false;
  const token = env.SERVEGRAPH_AUTH_TOKEN;
  if (token !== undefined && token !== '') o.authToken = token;
  return o;
}
