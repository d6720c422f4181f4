/**
 * `@jobwatch/client`: the ArcGIS Enterprise Administrator API over HTTP, promise-based.
 * Every request typed, every answer validated with `@jobwatch/schema`, every failure a
 * typed error with a stable `code`, the token kept out of URLs, logs and errors.
 * No rxjs, no `node:` modules: it runs unchanged in Node 20 and in browsers.
 *
 * @module @jobwatch/client
 * @packageDocumentation
 */
export type {
  AdminClient,
  AdminClientOptions,
  AsyncCallOptions,
  AuthProvider,
  CallOptions,
  ClientHooks,
  ClientOperation,
  GpParams,
  GpSubmitted,
  JobRead,
  OperationParams,
  RequestErrorInfo,
  RequestInfo,
  ResponseInfo,
  RetryOptions,
  ServiceRef,
  SourceJobRead,
  StartedJob,
  StartServerJobOptions,
  SyncCallOptions,
  TokenHeader,
  TokenTransport,
  WarningsEvent,
} from './api.js';
export { refreshMargin } from './auth.js';
export { type BackoffOptions, backoffDelay } from './backoff.js';
export { createAdminClient, DEFAULT_TIMEOUT } from './client.js';
export {
  AbortedError,
  ArcGISError,
  AuthError,
  ConfigError,
  ErrorCode,
  type ErrorCodeValue,
  InvalidJobIdError,
  isJobwatchError,
  JobNotFoundError,
  JobwatchError,
  RateLimitedError,
  TransportError,
  TransportReason,
  type TransportReasonValue,
  toJobwatchError,
  ValidationError,
} from './errors.js';
export { parseRetryAfter } from './http.js';
export { REDACTED, redact, withoutCredentials } from './redact.js';
export { DEFAULT_RETRY } from './retry.js';
export { parseTaskUrl } from './sources/jobs.js';
export { isLoopbackHost, normalizeAdminUrl, tokenUrlFor } from './urls.js';
