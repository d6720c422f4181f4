/**
 * One HTTP exchange with the admin API: build the request, send it through ky, read the
 * whole body under one timeout, and classify the answer into a value or a typed error.
 * No retries here (see `retry.ts`) and no token management (see `auth.ts`).
 */
import { type JobId, readErrorBody } from '@jobwatch/schema';
import type { KyInstance } from 'ky';
import type { TokenTransport } from './api.js';
import {
  AbortedError,
  ArcGISError,
  AuthError,
  failedBeforeSend,
  JobNotFoundError,
  RateLimitedError,
  systemCode,
  TransportError,
  TransportReason,
} from './errors.js';
import { displayUrl, excerptOf, redact } from './redact.js';

/** What a request is for: admin resources, or the token endpoint (whose errors mean refused credentials). */
export type RouteKind = 'admin' | 'token';

/** One request, before the token is attached. */
export interface RequestSpec {
  readonly method: 'GET' | 'POST';
  /** Absolute URL without a query string, built by `urls.ts`. */
  readonly url: string;
  /** Query parameters (GET) or form fields (POST), besides `f` and `token`. */
  readonly params?: Readonly<Record<string, string>>;
  /** The route kind. @default 'admin' */
  readonly route?: RouteKind;
  /** Set on job routes: an error body with code 404 then means {@link JobNotFoundError}. */
  readonly jobid?: JobId;
}

/** Per-call settings. */
export interface CallSettings {
  readonly signal?: AbortSignal | undefined;
  /** Milliseconds for the whole exchange, headers and body. */
  readonly timeout: number;
}

/** What the exchange needs from the client. */
export interface HttpContext {
  readonly ky: KyInstance;
  readonly tokenTransport: TokenTransport;
  /** Every secret the client holds now (tokens, password), to cut out of excerpts. */
  readonly secrets: () => Iterable<string>;
}

/** ArcGIS codes that mean "this token will not do": refresh once, then give up. */
export const REFRESHABLE_CODES: ReadonlySet<number> = new Set([498, 499]);

const oneLine = (text: string, secrets: Iterable<string>, max = 200) => {
  const line = redact(text.replace(/\s+/g, ' ').trim(), secrets);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

/**
 * `Retry-After` in ms: delta-seconds, or an HTTP date (compared with the wall clock, which
 * is what the server's date is written in). `undefined` when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  wallClock: number = Date.now(),
): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - wallClock);
}

/**
 * Sends one request and returns the parsed JSON body once it is known not to be an error
 * body. Throws a typed error for everything else; never retries.
 */
export async function exchange(
  ctx: HttpContext,
  spec: RequestSpec,
  token: string | undefined,
  settings: CallSettings,
): Promise<unknown> {
  const where = displayUrl(spec.url);
  const { signal } = settings;
  if (signal?.aborted)
    throw new AbortedError(`Request to ${where} aborted by the caller`, { url: where });

  const query = new URLSearchParams({ f: 'json' });
  const headers = new Headers();
  let body: URLSearchParams | undefined;
  if (spec.method === 'GET') {
    for (const [k, v] of Object.entries(spec.params ?? {})) query.set(k, v);
    if (token !== undefined) {
      if (ctx.tokenTransport === 'query') query.set('token', token);
      else if (ctx.tokenTransport === 'authorization')
        headers.set('authorization', `Bearer ${token}`);
      else headers.set('x-esri-authorization', `Bearer ${token}`);
    }
  } else {
    body = new URLSearchParams(spec.params);
    body.set('f', 'json');
    if (token !== undefined) body.set('token', token);
  }

  // One controller per attempt covers the headers *and* the body: ky's own `timeout`
  // stops at the headers, and its TimeoutError carries the Request (token header included).
  const attempt = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    attempt.abort();
  }, settings.timeout);
  const onAbort = () => attempt.abort();
  signal?.addEventListener('abort', onAbort, { once: true });

  const failed = (error: unknown): never => {
    if (signal?.aborted)
      throw new AbortedError(`Request to ${where} aborted by the caller`, { url: where });
    if (timedOut) {
      throw new TransportError(
        `No complete answer from ${where} within ${settings.timeout} ms: the server may be overloaded; try again or raise the timeout`,
        { reason: TransportReason.TIMEOUT, url: where },
      );
    }
    const before = failedBeforeSend(error);
    const code = systemCode(error);
    const what = before ? 'Could not connect to' : 'Connection failed while asking';
    throw new TransportError(
      `${what} ${where}${code ? ` (${code})` : ''}: check the URL and that the server is reachable`,
      { reason: before ? TransportReason.CONNECT : TransportReason.NETWORK, url: where },
    );
  };

  let status: number;
  let retryAfter: string | null;
  let text: string;
  try {
    // The query is appended here rather than through ky's `searchParams`, which builds the
    // Request twice.
    const response = await ctx.ky(`${spec.url}?${query}`, {
      method: spec.method,
      headers,
      body,
      signal: attempt.signal,
    });
    status = response.status;
    retryAfter = response.headers.get('retry-after');
    text = await readText(response, attempt.signal);
  } catch (error) {
    return failed(error);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
  return classify({ spec, where, status, retryAfter, text, secrets: ctx.secrets() });
}

/**
 * Reads the whole body, giving up when `signal` aborts. Node's fetch aborts a body read on
 * its own; other fetch implementations may not, so the race is explicit.
 */
function readText(response: Response, signal: AbortSignal): Promise<string> {
  if (signal.aborted) {
    void response.body?.cancel().catch(() => undefined);
    return Promise.reject(new Error('aborted'));
  }
  return new Promise<string>((resolve, reject) => {
    const onAbort = () => {
      void response.body?.cancel().catch(() => undefined);
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    response.text().then(
      (text) => {
        signal.removeEventListener('abort', onAbort);
        resolve(text);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Turns a complete answer into the parsed body, or throws the error it means. */
export function classify(answer: {
  readonly spec: RequestSpec;
  readonly where: string;
  readonly status: number;
  readonly retryAfter: string | null;
  readonly text: string;
  readonly secrets: Iterable<string>;
}): unknown {
  const { spec, where, status, text } = answer;
  const secrets = [...answer.secrets];
  const excerpt = () => excerptOf(text, secrets);
  const retryAfterMs = parseRetryAfter(answer.retryAfter);

  if (status === 429) {
    const wait =
      retryAfterMs === undefined
        ? 'slow down and try again later'
        : `retry after ${Math.ceil(retryAfterMs / 1000)} s`;
    throw new RateLimitedError(`Rate limited (HTTP 429) by ${where}: ${wait}`, {
      url: where,
      retryAfterMs,
    });
  }
  if (status >= 500) {
    throw new TransportError(
      `HTTP ${status} from ${where}: the server or a gateway failed; try again later`,
      {
        reason: TransportReason.STATUS,
        status,
        excerpt: excerpt(),
        url: where,
        retryAfterMs,
      },
    );
  }

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const ok = status >= 200 && status < 300;
    if (status === 401 || status === 403) {
      throw new AuthError(
        `HTTP ${status} from ${where}: access refused; check the credentials and the URL`,
        {
          url: where,
        },
      );
    }
    const what =
      text.trim() === ''
        ? 'an empty answer'
        : /^\s*</.test(text)
          ? 'HTML, not JSON'
          : 'a body that is not JSON (or is cut short)';
    throw new TransportError(
      `Unreadable answer from ${where} (HTTP ${status}, ${what}): ${ok ? 'try again; if it persists, check that the URL is the admin API' : 'check the admin URL'}`,
      { reason: TransportReason.BODY, status, excerpt: excerpt(), url: where, retryable: ok },
    );
  }

  const error = readErrorBody(body);
  if (error) {
    const code = error.code;
    const extra = error.details.filter((d) => d.trim() !== '' && d !== error.message);
    const said = oneLine(
      `${error.message}${extra.length ? ` (${extra.join('; ')})` : ''}`,
      secrets,
    );
    const messages = error.messages.map((m) => oneLine(m, secrets, 500));
    const details = error.details.map((m) => oneLine(m, secrets, 500));
    if (spec.route === 'token') {
      throw new AuthError(
        `Credentials refused by ${where}${code === undefined ? '' : ` (${code})`}: ${said}; check the username and password`,
        { url: where, arcgisCode: code },
      );
    }
    if (code !== undefined && REFRESHABLE_CODES.has(code)) {
      const what = code === 498 ? 'Token refused (498)' : 'Token required (499)';
      throw new AuthError(`${what} by ${where}: check the credentials or generate a new token`, {
        url: where,
        arcgisCode: code,
      });
    }
    if (code === 401 || code === 403) {
      throw new AuthError(
        `Access refused (${code}) by ${where}: ${said}; check the account's privileges`,
        {
          url: where,
          arcgisCode: code,
        },
      );
    }
    if (code === 404 && spec.jobid !== undefined) {
      throw new JobNotFoundError(
        `Job ${spec.jobid} not found at ${where}: it never existed or was purged; check the id and the admin URL`,
        { url: where, jobid: spec.jobid },
      );
    }
    if (code === 429) {
      throw new RateLimitedError(`Rate limited (429) by ${where}: ${said}`, {
        url: where,
        retryAfterMs,
      });
    }
    throw new ArcGISError(
      `ArcGIS error${code === undefined ? '' : ` ${code}`} from ${where}: ${said}`,
      {
        url: where,
        arcgisCode: code,
        messages,
        details,
      },
    );
  }

  if (status < 200 || status >= 300) {
    throw new TransportError(
      `HTTP ${status} from ${where} without an ArcGIS error body: check the admin URL`,
      {
        reason: TransportReason.STATUS,
        status,
        excerpt: excerpt(),
        url: where,
        retryable: false,
      },
    );
  }
  return body;
}
