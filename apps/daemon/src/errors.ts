/**
 * Errors of the daemon and the command line itself. Errors from talking to ArcGIS come from
 * `@jobwatch/client` and `@jobwatch/rx`; these cover what the user typed or configured.
 */

import { CodedError } from '@jobwatch/schema';

/** Stable codes of {@link DaemonError}. */
export const DaemonErrorCode = {
  /** A command line that cannot work: unknown flag, bad duration, hostile job id. */
  USAGE: 'USAGE',
  /** A configuration that cannot work: missing credentials, unreadable file, bad key. */
  CONFIG: 'CONFIG',
} as const;
/** One of {@link DaemonErrorCode}. */
export type DaemonErrorCodeValue = (typeof DaemonErrorCode)[keyof typeof DaemonErrorCode];

/**
 * A usage or configuration error: the command stops before any request and exits with 2.
 * The message is one line naming what was wrong; it never holds a secret.
 */
export class DaemonError extends CodedError<DaemonErrorCodeValue> {
  override name = 'DaemonError';
}

/** Shorthand for a {@link DaemonError} with code `USAGE`. */
export const usageError = (message: string) => new DaemonError('USAGE', message);
/** Shorthand for a {@link DaemonError} with code `CONFIG`. */
export const configError = (message: string, cause?: unknown) =>
  new DaemonError('CONFIG', message, cause === undefined ? undefined : { cause });

/** Whether `value` is a {@link DaemonError}. */
export function isDaemonError(value: unknown): value is DaemonError {
  return value instanceof DaemonError;
}
