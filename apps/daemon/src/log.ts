/**
 * JSON logs (pino) with secrets redacted by path.
 */
import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.js';

/** Paths whose values never reach a log line. */
export const REDACT_PATHS = [
  'token',
  'password',
  'secret',
  'authorization',
  'ticket',
  '*.token',
  '*.password',
  '*.secret',
  '*.authorization',
  '*.ticket',
  'auth.*',
  '*.auth.*',
  'headers.authorization',
  'headers["x-esri-authorization"]',
  'req.headers.authorization',
  'req.headers["x-esri-authorization"]',
  'req.headers.cookie',
];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  readonly level: LogLevel;
  /**
   * Where lines go. @default standard output, written asynchronously (a slow reader of the pipe
   * must not stall the event loop); call `logger.flush()` before exiting.
   */
  readonly destination?: NodeJS.WritableStream | { write(line: string): void };
}

/**
 * A pino logger writing one JSON object per line, with every field that may hold a secret
 * (`token`, `password`, `secret`, `authorization`, `ticket`, `auth.*`, at the top or one
 * level down, and the request's authorization and cookie headers) censored.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { name: 'jobwatch' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    (options.destination as pino.DestinationStream | undefined) ??
      pino.destination({ dest: 1, sync: false }),
  );
}

export type { Logger };
