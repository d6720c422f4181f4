import { CodedError, isSchemaError, type SchemaIssue } from '@jobwatch/schema';
import { redact } from './redact.js';

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
  /** No answer at all came from the server for a watch's `maxUnreachable` (thrown by `@jobwatch/rx`). */
  UNREACHABLE: 'UNREACHABLE',
  /**
   * A job waited for ended FAILED, TIMED OUT or CANCELLED, and the caller asked for a
   * rejection then (`waitForJob(..., { rejectOnFailure: true })` in `@jobwatch/rx`).
   */
  JOB_FAILED: 'JOB_FAILED',
} as const;
/** One of {@link ErrorCode}. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The base of every error jobwatch throws. `code` is stable; `message` is one line that
 * says what happened and what to do; no field ever holds a token or password.
 */
export class JobwatchError extends CodedError<ErrorCodeValue> {
  override name = 'JobwatchError';
  /** Whether trying again later may succeed. */
  readonly retryable: boolean;
  constructor(
    code: ErrorCodeValue,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(code, message, options);
    this.retryable = options?.retryable ?? false;
  }
}

/** Fields every request-related error may carry. */
interface RequestErrorOptions {
  /** The URL asked, without its query string (so never with a token). */
  readonly url?: string | undefined;
  readonly cause?: unknown;
}

/** Why a {@link TransportError} happened. */
export const TransportReason = {
  /** The connection could not be opened (refused, DNS): the request never left. */
  CONNECT: 'connect',
  /** The connection failed after the request may have been sent. */
  NETWORK: 'network',
  /** No complete answer within the per-request timeout. */
  TIMEOUT: 'timeout',
  /** An HTTP status that says the server or a gateway failed (5xx, or 4xx without an error body). */
  STATUS: 'status',
  /** An answer that is not JSON: HTML, empty or truncated. */
  BODY: 'body',
} as const;
/** One of {@link TransportReason}. */
export type TransportReasonValue = (typeof TransportReason)[keyof typeof TransportReason];

/**
 * The server could not be reached, did not answer in time, failed (5xx), or answered
 * something that is not JSON. Retryable unless a 4xx status says otherwise.
 */
export class TransportError extends JobwatchError {
  override name = 'TransportError';
  /** What went wrong, for code that treats a timeout apart from a refused connection. */
  readonly reason: TransportReasonValue;
  /** The HTTP status, when an answer came. */
  readonly status: number | undefined;
  /** A short, secret-free excerpt of the body, when there was one. */
  readonly excerpt: string | undefined;
  /** The URL asked, without its query string. */
  readonly url: string | undefined;
  /** Milliseconds a 503 asked to wait, from `Retry-After`, when given. */
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    options: RequestErrorOptions & {
      readonly reason: TransportReasonValue;
      readonly status?: number | undefined;
      readonly excerpt?: string | undefined;
      readonly retryable?: boolean;
      readonly retryAfterMs?: number | undefined;
    },
  ) {
    super(ErrorCode.TRANSPORT, message, {
      cause: options.cause,
      retryable: options.retryable ?? true,
    });
    this.reason = options.reason;
    this.status = options.status;
    this.excerpt = options.excerpt;
    this.url = options.url;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** HTTP 429: the server asks to slow down. `retryAfterMs` is its `Retry-After`, when given. */
export class RateLimitedError extends JobwatchError {
  override name = 'RateLimitedError';
  /** Milliseconds the server asked to wait, from `Retry-After` (seconds or an HTTP date). */
  readonly retryAfterMs: number | undefined;
  /** The URL asked, without its query string. */
  readonly url: string | undefined;
  constructor(
    message: string,
    options: RequestErrorOptions & { readonly retryAfterMs?: number | undefined },
  ) {
    super(ErrorCode.RATE_LIMITED, message, { cause: options.cause, retryable: true });
    this.retryAfterMs = options.retryAfterMs;
    this.url = options.url;
  }
}

/**
 * The token or the credentials were refused: 498 (invalid or expired token) or 499 (token
 * required) after one refresh, refused credentials at `generateToken`, or a token provider
 * that failed.
 */
export class AuthError extends JobwatchError {
  override name = 'AuthError';
  /** The ArcGIS code (`498`, `499`, `400`…), when the server gave one. */
  readonly arcgisCode: number | undefined;
  /** The URL asked, without its query string. */
  readonly url: string | undefined;
  constructor(
    message: string,
    options: RequestErrorOptions & { readonly arcgisCode?: number | undefined } = {},
  ) {
    super(ErrorCode.AUTH, message, { cause: options.cause });
    this.arcgisCode = options.arcgisCode;
    this.url = options.url;
  }
}

/** An ArcGIS error body (either format) that is not about auth or a missing job. */
export class ArcGISError extends JobwatchError {
  override name = 'ArcGISError';
  /** The code in the body, when there was one. */
  readonly arcgisCode: number | undefined;
  /** The body's messages (format B) or its message (format A). */
  readonly messages: readonly string[];
  /** Format A's `details`. */
  readonly details: readonly string[];
  /** The URL asked, without its query string. */
  readonly url: string | undefined;
  constructor(
    message: string,
    options: RequestErrorOptions & {
      readonly arcgisCode?: number | undefined;
      readonly messages?: readonly string[];
      readonly details?: readonly string[];
    } = {},
  ) {
    super(ErrorCode.ARCGIS, message, { cause: options.cause });
    this.arcgisCode = options.arcgisCode;
    this.messages = options.messages ?? [];
    this.details = options.details ?? [];
    this.url = options.url;
  }
}

/** The server does not know this job: it never existed, or it was purged. */
export class JobNotFoundError extends JobwatchError {
  override name = 'JobNotFoundError';
  /** The job asked for. */
  readonly jobid: string;
  /** The URL asked, without its query string. */
  readonly url: string | undefined;
  constructor(message: string, options: RequestErrorOptions & { readonly jobid: string }) {
    super(ErrorCode.JOB_NOT_FOUND, message, { cause: options.cause });
    this.jobid = options.jobid;
    this.url = options.url;
  }
}

/** A job id that could change a URL (`../x`, `a?b`, empty, too long…), refused before any request. */
export class InvalidJobIdError extends JobwatchError {
  override name = 'InvalidJobIdError';
  /** What was wrong, from `@jobwatch/schema`. */
  readonly issues: readonly SchemaIssue[];
  constructor(
    message: string,
    options: { readonly issues?: readonly SchemaIssue[]; readonly cause?: unknown } = {},
  ) {
    super(ErrorCode.INVALID_JOB_ID, message, { cause: options.cause });
    this.issues = options.issues ?? [];
  }
}

/** A body that did not match its schema, or a server that answered about another job. */
export class ValidationError extends JobwatchError {
  override name = 'ValidationError';
  /** Every problem found, first one first, each with its JSON pointer. */
  readonly issues: readonly SchemaIssue[];
  /** The URL asked, without its query string. */
  readonly url: string | undefined;
  constructor(
    message: string,
    options: RequestErrorOptions & { readonly issues: readonly SchemaIssue[] },
  ) {
    super(ErrorCode.SCHEMA, message, { cause: options.cause });
    this.issues = options.issues;
    this.url = options.url;
  }
}

/** The caller aborted the call through its `AbortSignal`. */
export class AbortedError extends JobwatchError {
  override name = 'AbortedError';
  /** The URL being asked when the abort came, without its query string. */
  readonly url: string | undefined;
  constructor(message = 'Aborted by the caller', options: RequestErrorOptions = {}) {
    super(ErrorCode.ABORTED, message, { cause: options.cause });
    this.url = options.url;
  }
}

/**
 * The client was configured, or called, in a way that cannot work or is unsafe: a bad URL,
 * a token over plain `http:`, a URL on a host the user did not configure, an unsafe name.
 */
export class ConfigError extends JobwatchError {
  override name = 'ConfigError';
  constructor(message: string, options: { readonly cause?: unknown } = {}) {
    super(ErrorCode.CONFIG, message, { cause: options.cause });
  }
}

/** Whether `value` is a {@link JobwatchError} (also across package copies). */
export function isJobwatchError(value: unknown): value is JobwatchError {
  if (value instanceof JobwatchError) return true;
  if (typeof value !== 'object' || value === null || !(value instanceof Error)) return false;
  const { code, retryable } = value as { code?: unknown; retryable?: unknown };
  return (
    typeof code === 'string' &&
    typeof retryable === 'boolean' &&
    (Object.values(ErrorCode) as string[]).includes(code)
  );
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The system `code` of an error-like object (`ECONNREFUSED`, …), searching its `cause` chain. */
export function systemCode(value: unknown): string | undefined {
  let current: unknown = value;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Whether a fetch failure happened before the request could leave (refused connection,
 * unknown host). Only Node's fetch says so; in a browser every failure counts as "may
 * have been sent".
 */
export function failedBeforeSend(error: unknown): boolean {
  const code = systemCode(error);
  return code !== undefined && CONNECT_CODES.has(code);
}

/**
 * Turns any thrown value into a {@link JobwatchError}: jobwatch errors pass through; a
 * `SchemaError` becomes a {@link ValidationError} (or {@link InvalidJobIdError}); an
 * `AbortError` an {@link AbortedError}; a timeout or a fetch `TypeError` a
 * {@link TransportError}; ky's `HTTPError` a {@link TransportError} (or
 * {@link RateLimitedError} for 429). Anything else becomes a non-retryable
 * {@link TransportError} whose message keeps the original one line.
 *
 * ky's errors carry the `Request` (and with it the token header), so they are never
 * kept as `cause`.
 *
 * @example
 * ```ts
 * try { await client.getJob(id); } catch (e) { const err = toJobwatchError(e); log(err.code, err.message); }
 * ```
 */
export function toJobwatchError(error: unknown): JobwatchError {
  if (error instanceof JobwatchError) return error;
  if (isSchemaError(error)) {
    if (error.code === 'INVALID_JOB_ID') {
      const first = error.issues[0];
      const what = first ? `${first.found}: expected ${first.expected}` : error.message;
      return new InvalidJobIdError(
        `Invalid job id ${what}; pass the id exactly as ArcGIS returned it`,
        {
          issues: error.issues,
          cause: error,
        },
      );
    }
    return new ValidationError(
      `Unexpected body: ${error.message}; the server may be newer than this client`,
      {
        issues: error.issues,
        cause: error,
      },
    );
  }
  const name =
    typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  if (name === 'AbortError') return new AbortedError('Aborted by the caller', { cause: error });
  if (name === 'TimeoutError') {
    return new TransportError(
      'No answer within the timeout: the server may be overloaded; try again or raise the timeout',
      {
        reason: TransportReason.TIMEOUT,
      },
    );
  }
  if (name === 'HTTPError') {
    const status = (error as { response?: { status?: unknown } }).response?.status;
    const code = typeof status === 'number' ? status : undefined;
    if (code === 429)
      return new RateLimitedError('Rate limited (HTTP 429): slow down and try again later', {});
    return new TransportError(
      `HTTP ${code ?? 'error'}: the server or a gateway failed; try again later`,
      {
        reason: TransportReason.STATUS,
        status: code,
        retryable: code === undefined || code >= 500,
      },
    );
  }
  if (error instanceof TypeError) {
    const before = failedBeforeSend(error);
    return new TransportError(
      `Network failure (${redact(oneLine(error.message))}): check the URL and that the server is reachable`,
      { reason: before ? TransportReason.CONNECT : TransportReason.NETWORK, cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new TransportError(`Unexpected failure: ${redact(oneLine(message)).slice(0, 200)}`, {
    reason: TransportReason.NETWORK,
    retryable: false,
    cause: error instanceof Error ? error : undefined,
  });
}
