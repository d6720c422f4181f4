/**
 * The one request path of every call: the token, retries by the client's rule, the header
 * switch on a 499 and the one refresh on a refused token, all under the hooks.
 */
import ky from 'ky';
import type { AuthProvider, CallOptions } from './api.js';
import { noTokenSource, type TokenSource, tokenSourceFor } from './auth.js';
import {
  AuthError,
  ConfigError,
  type JobwatchError,
  TransportError,
  TransportReason,
  toJobwatchError,
} from './errors.js';
import { observed, type Trace } from './hooks.js';
import {
  exchange,
  type HeaderName,
  type HttpContext,
  headerCache,
  REFRESHABLE_CODES,
  type RequestSpec,
} from './http.js';
import { overridePolicy, type RetryPolicy, withRetries } from './retry.js';
import { type ClientSettings, checkTimeout } from './settings.js';
import type { AdminRoot } from './urls.js';

const HEADER_NAMES: Readonly<Record<HeaderName, string>> = {
  'x-esri-authorization': 'X-Esri-Authorization',
  authorization: 'Authorization',
};
const otherHeader = (header: HeaderName): HeaderName =>
  header === 'authorization' ? 'x-esri-authorization' : 'authorization';
/** Sends the client's requests; `request` resolves with what `read` makes of the body. */
export interface Requester {
  request<T = unknown>(
    spec: RequestSpec,
    call: CallOptions | undefined,
    read?: (body: unknown) => T,
  ): Promise<T>;
  /** The header GETs carry the token in now; with `auto`, the one that worked last. */
  readonly header: HeaderName;
}

const asIs = (body: unknown): unknown => body;

/**
 * The transport, the token source and the one request path of every call: token, retries by
 * the client's rule, the header switch and the one refresh (see {@link authorized}), all under
 * the hooks.
 */
export function createRequester(
  settings: ClientSettings,
  auth: AuthProvider | undefined,
): Requester {
  const { root, timeout, policy, hooks } = settings;
  // The exchange redacts every secret the token source holds; the source needs the exchange
  // to reach generateToken. `tokens` is set right below, before any request can run.
  let tokens: TokenSource = noTokenSource();
  const ctx: HttpContext = {
    ky: ky.create({
      retry: 0,
      throwHttpErrors: false,
      timeout: false,
      headers: settings.headers,
      fetch: settings.fetch,
    }),
    fetch: settings.fetch,
    headersFor: headerCache(settings.headers),
    secrets: () => tokens.secrets(),
  };
  tokens = tokenSourceFor(auth, root, {
    allowInsecureHttp: settings.allowInsecureHttp,
    fetchToken: (url, params) => {
      const spec: RequestSpec = {
        method: 'POST',
        url,
        params,
        route: 'token',
        operation: 'generateToken',
      };
      return observed(hooks, spec, (trace) =>
        withRetries(() => exchange(ctx, spec, undefined, { timeout, trace }), {
          policy,
          mayRetry: () => true,
        }),
      );
    },
    now: settings.now,
  });
  const state = {
    header: (settings.tokenHeader === 'auto'
      ? 'x-esri-authorization'
      : settings.tokenHeader) as HeaderName,
  };
  return {
    get header() {
      return state.header;
    },
    request<T>(spec: RequestSpec, call: CallOptions | undefined, read?: (body: unknown) => T) {
      const readBody = (read ?? asIs) as (body: unknown) => T;
      return observed(hooks, spec, async (trace) =>
        readBody(await authorized({ settings, ctx, tokens, state }, spec, call, trace)),
      );
    },
  };
}

/** What {@link authorized} works with: the client's settings, transport, tokens and header. */
interface AuthorizedContext {
  readonly settings: ClientSettings;
  readonly ctx: HttpContext;
  readonly tokens: TokenSource;
  /** The header that worked last, kept for every later request to this deployment. */
  readonly state: { header: HeaderName };
}

/** The retry policy and timeout of one call, over the client's. @throws {@link ConfigError} */
function callSettings(
  settings: ClientSettings,
  call: CallOptions | undefined,
): { policy: RetryPolicy; timeout: number } {
  let policy = settings.policy;
  const retry = call?.retry;
  if (retry === false) policy = settings.oneAttempt;
  else if (retry !== undefined) {
    try {
      policy = overridePolicy(settings.policy, retry);
    } catch (error) {
      throw new ConfigError(`${(error as Error).message}: fix the retry options of this call`);
    }
  }
  const timeout =
    call?.timeout === undefined ? settings.timeout : checkTimeout(call.timeout, 'options.timeout');
  return { policy, timeout };
}

/**
 * One call: token, retries by the rule above; on 499 with `tokenHeader: 'auto'` the other
 * header once; one refresh on 498/499.
 */
async function authorized(
  context: AuthorizedContext,
  spec: RequestSpec,
  call: CallOptions | undefined,
  trace: Trace | undefined,
): Promise<unknown> {
  const { settings, ctx, tokens, state } = context;
  const signal = call?.signal;
  const { policy, timeout } = callSettings(settings, call);
  const idempotent = spec.method === 'GET';
  const mayRetry = (e: JobwatchError) =>
    idempotent || (e instanceof TransportError && e.reason === TransportReason.CONNECT);
  const send = (token: string | undefined, via: HeaderName) =>
    withRetries(() => exchange(ctx, spec, token, { signal, timeout, header: via, trace }), {
      policy,
      signal,
      mayRetry,
    });
  const refusal = (e: unknown): e is AuthError =>
    e instanceof AuthError && e.arcgisCode !== undefined && REFRESHABLE_CODES.has(e.arcgisCode);
  try {
    let token = await tokens.get(signal);
    let via = state.header;
    let switched = false;
    let refreshed = false;
    for (;;) {
      try {
        const body = await send(token, via);
        // Remember the header that worked, for every later request to this deployment.
        if (switched) state.header = via;
        return body;
      } catch (error) {
        if (token === undefined || !refusal(error)) throw error;
        // 499: the server saw no token, though one was sent. Behind a web tier that keeps
        // `Authorization` for itself, or on a server that reads only `Authorization`, the
        // other header is the one it reads: try it once.
        const auto = settings.tokenHeader === 'auto';
        if (auto && idempotent && error.arcgisCode === 499 && !switched) {
          switched = true;
          via = otherHeader(via);
          continue;
        }
        if (!refreshed && tokens.canRefresh) {
          refreshed = true;
          token = await tokens.refresh(token, signal);
          // The fresh token goes in the deployment's header; both were tried already.
          via = state.header;
          continue;
        }
        if (!refreshed && !switched) throw error;
        throw refusedAfterAll(error, settings.root, switched && idempotent, refreshed);
      }
    }
  } catch (error) {
    throw toJobwatchError(error);
  }
}

/** The error of a token the server refused after the other header and a refresh were tried. */
function refusedAfterAll(
  error: AuthError,
  root: AdminRoot,
  bothHeaders: boolean,
  refreshed: boolean,
): AuthError {
  const tried = bothHeaders
    ? ` in ${HEADER_NAMES['x-esri-authorization']} and in ${HEADER_NAMES.authorization}`
    : '';
  const what =
    error.arcgisCode === 499
      ? `Token required (499) by ${error.url ?? root.url}: the server saw no token${tried}${refreshed ? ', even a fresh one' : ''}; check that a proxy or web tier passes the header through, or set tokenHeader`
      : `Token refused (${error.arcgisCode}) by ${error.url ?? root.url} even after a refresh: check the account and its privileges`;
  return new AuthError(what, { url: error.url, arcgisCode: error.arcgisCode });
}
