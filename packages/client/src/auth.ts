/**
 * Where tokens come from: a fixed token, credentials exchanged at `generateToken`, or a
 * caller's function; {@link tokenSourceFor} makes the one the client's `auth` option names. A token from credentials is refreshed ahead of expiry, and every
 * refresh is shared: however many calls need a new token at once, one request is made.
 */
import { parseTokenResponse, type TokenResponse, tokenExpiresAt } from '@jobwatch/schema';
import type { AuthProvider } from './api.js';
import {
  AbortedError,
  AuthError,
  ConfigError,
  isJobwatchError,
  type JobwatchError,
  toJobwatchError,
  ValidationError,
} from './errors.js';
import { displayUrl, redact } from './redact.js';
import { type AdminRoot, assertSecureFor, deriveTokenUrl, parseHttpUrl } from './urls.js';

/** A source of tokens for the client. */
export interface TokenSource {
  /** Whether a refused token can be replaced by another (not for a fixed token). */
  readonly canRefresh: boolean;
  /** A token to use now; `undefined` when the client sends none. */
  get(signal?: AbortSignal): Promise<string | undefined>;
  /** A token other than `stale`, which the server refused. */
  refresh(stale: string, signal?: AbortSignal): Promise<string>;
  /** Every secret this source holds or has handed out lately, to keep out of errors. */
  secrets(): Iterable<string>;
}

/** Resolves with `promise`, or rejects with {@link AbortedError} as soon as `signal` aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new AbortedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Keeps the last few tokens handed out, so an error about an old one still redacts it. */
class SecretRing {
  readonly #items: string[] = [];
  constructor(readonly fixed: readonly string[] = []) {}
  add(secret: string): void {
    if (this.#items.includes(secret)) return;
    this.#items.push(secret);
    if (this.#items.length > 8) this.#items.shift();
  }
  *[Symbol.iterator](): Iterator<string> {
    yield* this.fixed;
    yield* this.#items;
  }
}

/** A token must be one header-safe word. */
function checkToken(token: unknown, from: string): string {
  if (typeof token !== 'string' || token.length === 0 || /[\s\u0000-\u001f\u007f]/.test(token)) {
    throw new AuthError(
      `${from} gave no usable token (empty, or with spaces or control characters): check it`,
    );
  }
  return token;
}

/** No token at all: for servers or proxies that authenticate otherwise. */
export function noTokenSource(): TokenSource {
  return {
    canRefresh: false,
    get: async () => undefined,
    refresh: async () => {
      throw new AuthError(
        'The server asked for a token but the client has no auth configured: pass auth',
      );
    },
    secrets: () => [],
  };
}

/** A fixed token: used as is; when the server refuses it, the call fails with {@link AuthError}. */
export function fixedTokenSource(token: string): TokenSource {
  const checked = checkToken(token, 'auth.token');
  return {
    canRefresh: false,
    get: async () => checked,
    refresh: async () => {
      throw new AuthError('The fixed token was refused: generate a new token or use credentials');
    },
    secrets: () => [checked],
  };
}

/** A caller's function; called with `{ refresh: true }` after a refusal, one such call at a time. */
export function providerTokenSource(
  getToken: (context: {
    readonly refresh: boolean;
    readonly signal?: AbortSignal;
  }) => Promise<string> | string,
): TokenSource {
  const seen = new SecretRing();
  let refreshing: Promise<string> | undefined;
  let last: string | undefined;
  const call = async (refresh: boolean, signal?: AbortSignal): Promise<string> => {
    let token: unknown;
    try {
      token = await getToken(signal === undefined ? { refresh } : { refresh, signal });
    } catch (error) {
      if (isJobwatchError(error)) throw error;
      if ((error as { name?: unknown } | null)?.name === 'AbortError') throw new AbortedError();
      throw new AuthError('The token provider failed: check how the token is obtained', {
        cause: error,
      });
    }
    const checked = checkToken(token, 'The token provider');
    seen.add(checked);
    last = checked;
    return checked;
  };
  return {
    canRefresh: true,
    get: (signal) => raceAbort(call(false, signal), signal),
    refresh(stale, signal) {
      if (last !== undefined && last !== stale) return Promise.resolve(last);
      // One refresh at a time, shared; it runs free of any one caller's signal.
      refreshing ??= call(true).finally(() => {
        refreshing = undefined;
      });
      return raceAbort(refreshing, signal);
    },
    secrets: () => seen,
  };
}

/** How a credentials source asks for a token: one POST to `generateToken`, with retries. */
export type FetchToken = () => Promise<unknown>;

/** The ms before expiry at which a token is replaced: 10 % of its lifetime, at most a minute. */
export function refreshMargin(lifetimeMs: number): number {
  return Math.min(60_000, Math.max(0, lifetimeMs) * 0.1);
}

interface TokenState {
  readonly token: string;
  /** Epoch ms after which the token is replaced before use. */
  readonly freshUntil: number;
  /** Epoch ms at which the server said the token expires (`Infinity` when unknown). */
  readonly expiresAt: number;
}

/**
 * A token from `generateToken`, fetched on first use, replaced ahead of expiry (see
 * {@link refreshMargin}) and after a refusal. All concurrent needs share one request.
 * When a refresh ahead of expiry fails, the current token is used until it really
 * expires. A token whose `expires` is not after the moment it arrived (a skewed clock)
 * is kept until the server refuses it.
 */
export function credentialsTokenSource(options: {
  readonly password: string;
  readonly fetchToken: FetchToken;
  readonly now: () => number;
  readonly tokenUrl: string;
}): TokenSource {
  const { fetchToken, now } = options;
  const seen = new SecretRing([options.password]);
  let state: TokenState | undefined;
  let inflight: Promise<TokenState> | undefined;

  const obtain = async (): Promise<TokenState> => {
    let response: TokenResponse;
    try {
      const body = await fetchToken();
      response = parseTokenResponse(body);
    } catch (error) {
      throw tokenFailure(error, options.tokenUrl, seen);
    }
    const token = checkToken(response.token, options.tokenUrl);
    seen.add(token);
    const at = now();
    const expiresAt = tokenExpiresAt(response);
    const lifetime = expiresAt - at;
    const known = Number.isFinite(lifetime) && lifetime > 0;
    const next = {
      token,
      freshUntil: known ? expiresAt - refreshMargin(lifetime) : Number.POSITIVE_INFINITY,
      expiresAt: known ? expiresAt : Number.POSITIVE_INFINITY,
    };
    state = next;
    return next;
  };
  const shared = async (signal: AbortSignal | undefined): Promise<string> => {
    inflight ??= obtain().finally(() => {
      inflight = undefined;
    });
    return (await raceAbort(inflight, signal)).token;
  };
  return {
    canRefresh: true,
    async get(signal) {
      const current = state;
      if (current && now() < current.freshUntil) return current.token;
      try {
        return await shared(signal);
      } catch (error) {
        // An early refresh that failed costs nothing while the current token still lives.
        const stillValid = current !== undefined && state === current && now() < current.expiresAt;
        if (stillValid && !(error instanceof AbortedError)) return current.token;
        throw error;
      }
    },
    async refresh(stale, signal) {
      if (state && state.token !== stale && now() < state.freshUntil) return state.token;
      if (state?.token === stale) state = undefined;
      return shared(signal);
    },
    secrets: () => seen,
  };
}

/** A failure to get a token, as a {@link JobwatchError} that names the token URL and nothing secret. */
function tokenFailure(error: unknown, tokenUrl: string, secrets: Iterable<string>): JobwatchError {
  const e = toJobwatchError(error);
  if (e instanceof ValidationError) {
    const issues = e.issues.map((i) => ({ ...i, found: redact(i.found, secrets) }));
    const first = issues[0];
    return new ValidationError(
      `Unexpected answer from ${tokenUrl}${first ? ` (${first.path}: expected ${first.expected}, got ${first.found})` : ''}: check the token URL`,
      { issues, url: tokenUrl },
    );
  }
  return e;
}

/** What {@link tokenSourceFor} needs besides the `auth` option. */
export interface TokenSourceDeps {
  readonly allowInsecureHttp: boolean;
  /** POSTs the form to the token URL (with the client's retries) and returns the body. */
  readonly fetchToken: (url: string, params: Record<string, string>) => Promise<unknown>;
  readonly now: () => number;
}

/**
 * The token source the client's `auth` option names, with every field checked and no secret
 * allowed over plain http to another machine.
 * @throws {@link ConfigError} for a missing or malformed field, or an insecure URL.
 */
export function tokenSourceFor(
  auth: AuthProvider | undefined,
  root: AdminRoot,
  deps: TokenSourceDeps,
): TokenSource {
  const given = auth ?? { type: 'none' as const };
  switch (given.type) {
    case 'none':
      return noTokenSource();
    case 'token':
      if (typeof given.token !== 'string' || !/^[^\s\u0000-\u001f\u007f]+$/.test(given.token)) {
        throw new ConfigError(
          'auth.token must be a non-empty token without spaces or control characters',
        );
      }
      assertSecureFor(root, 'token', deps.allowInsecureHttp);
      return fixedTokenSource(given.token);
    case 'provider':
      if (typeof given.getToken !== 'function')
        throw new ConfigError('auth.getToken must be a function');
      assertSecureFor(root, 'token', deps.allowInsecureHttp);
      return providerTokenSource(given.getToken);
    case 'credentials':
      return credentialsFor(given, root, deps);
    default:
      throw new ConfigError(
        `Unknown auth.type ${JSON.stringify(String((given as { type?: unknown }).type))}: use token, credentials, provider or none`,
      );
  }
}

/** The `credentials` case of {@link tokenSourceFor}: the token URL and the form it is sent. */
function credentialsFor(
  auth: Extract<AuthProvider, { type: 'credentials' }>,
  root: AdminRoot,
  deps: TokenSourceDeps,
): TokenSource {
  if (
    typeof auth.username !== 'string' ||
    auth.username === '' ||
    typeof auth.password !== 'string' ||
    auth.password === ''
  ) {
    throw new ConfigError('auth.username and auth.password must be non-empty strings');
  }
  const tokenUrl =
    auth.tokenUrl === undefined
      ? deriveTokenUrl(root)
      : displayUrl(parseHttpUrl(auth.tokenUrl, 'auth.tokenUrl'));
  assertSecureFor(new URL(tokenUrl), 'password', deps.allowInsecureHttp);
  assertSecureFor(root, 'token', deps.allowInsecureHttp);
  const { expiration } = auth;
  if (expiration !== undefined && (!Number.isInteger(expiration) || expiration <= 0)) {
    throw new ConfigError('auth.expiration must be a whole number of minutes above 0');
  }
  const params: Record<string, string> = {
    username: auth.username,
    password: auth.password,
    client: 'referer',
    referer: auth.referer ?? root.origin,
    ...(expiration === undefined ? {} : { expiration: String(expiration) }),
  };
  return credentialsTokenSource({
    password: auth.password,
    tokenUrl,
    now: deps.now,
    fetchToken: () => deps.fetchToken(tokenUrl, params),
  });
}
