/**
 * The client's options, read and checked once: the admin root, timeouts, the token header,
 * the retry policy, the listeners and the fetch.
 */

import type { JobId, SchemaWarning } from '@jobwatch/schema';
import type { AdminClientOptions, ClientHooks, TokenHeader, WarningsEvent } from './api.js';
import { ConfigError } from './errors.js';
import { checkHooks } from './hooks.js';
import { overridePolicy, type RetryPolicy, resolveRetry } from './retry.js';
import { type AdminRoot, parseAdminRoot } from './urls.js';

/** The per-request timeout when none is given. */
export const DEFAULT_TIMEOUT = 30_000;
const MAX_TIMEOUT = 2_147_483_647;
const TOKEN_HEADERS: readonly TokenHeader[] = ['auto', 'x-esri-authorization', 'authorization'];
/** A timeout in ms, checked. @throws {@link ConfigError} */
export function checkTimeout(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT) {
    throw new ConfigError(`${what} must be a number of milliseconds between 1 and ${MAX_TIMEOUT}`);
  }
  return value;
}

/** Reports a read's warnings; a listener that throws never costs the read. */
export type WarningSink = (
  kind: string,
  url: string,
  warnings: readonly SchemaWarning[],
  jobid?: JobId,
) => void;

/** Everything `createAdminClient` reads from its options, checked once. */
export interface ClientSettings {
  readonly root: AdminRoot;
  readonly now: () => number;
  /** Per-request timeout in ms. */
  readonly timeout: number;
  readonly tokenHeader: TokenHeader;
  readonly sink: WarningSink;
  readonly hooks: ClientHooks | undefined;
  readonly policy: RetryPolicy;
  /** `retry: false` on a call (a poll loop with its own backoff) costs no policy object per call. */
  readonly oneAttempt: RetryPolicy;
  readonly allowInsecureHttp: boolean;
  /** Headers of every request (`accept`, and `user-agent` when given). */
  readonly headers: Readonly<Record<string, string>>;
  readonly fetch: typeof globalThis.fetch;
}

/** Reads and checks the options. @throws {@link ConfigError} */
export function clientSettings(options: AdminClientOptions): ClientSettings {
  const root = parseAdminRoot(options.url);
  const now = options.now ?? Date.now;
  const onWarnings = options.onWarnings;
  if (onWarnings !== undefined && typeof onWarnings !== 'function') {
    throw new ConfigError('onWarnings must be a function');
  }
  const sink: WarningSink = (kind, url, warnings, jobid) => {
    if (!onWarnings) return;
    const event: WarningsEvent =
      jobid === undefined ? { kind, url, warnings } : { kind, url, warnings, jobid };
    try {
      onWarnings(event);
    } catch {
      // A listener's failure never costs a read.
    }
  };
  let policy: RetryPolicy;
  try {
    policy = resolveRetry(options.retry, now);
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}: fix the retry options`);
  }
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.userAgent !== undefined) headers['user-agent'] = options.userAgent;
  const userFetch = options.fetch;
  if (userFetch !== undefined && typeof userFetch !== 'function') {
    throw new ConfigError('fetch must be a function');
  }
  return {
    root,
    now,
    timeout: checkTimeout(options.timeout ?? DEFAULT_TIMEOUT, 'timeout'),
    tokenHeader: resolveTokenHeader(options),
    sink,
    hooks: checkHooks(options.hooks),
    policy,
    oneAttempt: overridePolicy(policy, false),
    allowInsecureHttp: options.allowInsecureHttp === true,
    headers,
    // Called as a plain function: a browser's `window.fetch` throws when called on another `this`.
    fetch: userFetch
      ? (input, init) => userFetch(input, init)
      : (input, init) => globalThis.fetch(input, init),
  };
}

/** The `tokenHeader` option, or the deprecated `tokenTransport` read as one. */
function resolveTokenHeader(options: AdminClientOptions): TokenHeader {
  const legacy = options.tokenTransport;
  if (legacy !== undefined && options.tokenHeader === undefined) {
    if (legacy === 'query') {
      throw new ConfigError(
        "tokenTransport 'query' is refused: a token never travels in a URL (it would land in proxy and server logs); use tokenHeader",
      );
    }
    if (legacy !== 'x-esri-authorization' && legacy !== 'authorization') {
      throw new ConfigError(
        `tokenTransport must be x-esri-authorization or authorization; prefer tokenHeader`,
      );
    }
    return legacy;
  }
  const value = options.tokenHeader ?? 'auto';
  if (!TOKEN_HEADERS.includes(value)) {
    throw new ConfigError(`tokenHeader must be one of ${TOKEN_HEADERS.join(', ')}`);
  }
  return value;
}
