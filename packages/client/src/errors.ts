import { isSchemaError, type SchemaIssue } from '@jobwatch/schema';

/** Stable machine codes of every error jobwatch throws. */
export const ErrorCode = {
  /** Network failure, per-request timeout, HTTP 5xx, or a body that is not JSON. Retryable. */
  TRANSPORT: 'TRANSPORT',
  /** HTTP 429; `retryAfterMs` holds the server's `Retry-After`. Retryable. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** 498 (invalid or expired token), 499 (token required) after one refresh, or refused credentials. */
  AUTH: 'AUTH',
  /** Any other ArcGIS error body (format A or B). */
  ARCGIS: 'ARCGIS',
  /** The server does not know this job (error body with code 404). */
  JOB_NOT_FOUND: 'JOB_NOT_FOUND',
  /** A job id that could change a URL, refused before any request. */
  INVALID_JOB_ID: 'INVALID_JOB_ID',
  /** A body that did not match its schema. */
  SCHEMA: 'SCHEMA',
  /** The caller aborted (AbortSignal). */
  ABORTED: 'ABORTED',
  /** The client was configured in a way that cannot work or is unsafe (bad URL, token over plain http, foreign origin). */
  CONFIG: 'CONFIG',
  /** A watch ran past its `maxWait` (thrown by `@jobwatch/rx`). */
  WAIT_TIMEOUT: 'WAIT_TIMEOUT',
} as const;
/** One of {@link ErrorCode}. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The base of every error jobwatch throws. `code` is stable; `message` is one line that
 * says what happened and what to do; no field ever holds a token or password.
 */
export class JobwatchError extends Error {
  override name = 'JobwatchError';
  readonly code: ErrorCodeValue;
  /** Whether trying again later may succeed. */
  readonly retryable: boolean;
  constructor(code: ErrorCodeValue, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options?.retryable ?? false;
  }
}
