import { type Logger, pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** JSON logs on stderr, so that a command's own output on stdout stays clean. */
export function createLogger(level: LogLevel = 'warn'): Logger {
  return pino({ level, base: undefined }, pino.destination({ dest: 2, sync: true }));
}

export type { Logger };
