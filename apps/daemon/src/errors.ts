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

/** Stable codes of {@link StoreError}. */
export const StoreErrorCode = {
  /**
   * A write from a daemon whose lease on the work is no longer current (another daemon took
   * over): refused, nothing changed.
   */
  FENCED: 'FENCED',
  /** The store cannot be reached now (Redis down or restarting); the operation did not happen. */
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
} as const;
/** One of {@link StoreErrorCode}. */
export type StoreErrorCodeValue = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

/**
 * A store operation that did not happen. The message names the operation and why, never a
 * connection URL or a password.
 */
export class StoreError extends CodedError<StoreErrorCodeValue> {
  override name = 'StoreError';
}

/**
 * A write refused because its fence is stale: the lease on `work` now carries another token
 * (or none), so this daemon no longer owns the work. Nothing was written.
 */
export class FencedError extends StoreError {
  override name = 'FencedError';
  constructor(
    /** The leased unit of work the write belonged to. */
    readonly work: string,
    /** The token the write carried. */
    readonly token: number,
  ) {
    super(
      'FENCED',
      `write refused: the lease on ${work} is no longer held with token ${token} (another daemon took over)`,
    );
  }
}

/** Whether `value` is a {@link FencedError}. */
export function isFencedError(value: unknown): value is FencedError {
  return value instanceof FencedError;
}
