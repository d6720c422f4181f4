/**
 * One HTTP exchange with the admin API: build the request, send it, read the whole body
 * under one timeout, and classify the answer into a value or a typed error.
 * No retries here (see `retry.ts`) and no token management (see `auth.ts`).
 *
 * POSTs (operations, `generateToken`) go through ky. GET reads, which a poll loop sends
 * thousands of times, call the fetch directly with a URL and a plain init: ky builds a
 * `Request`, clones it and hands it to fetch, which builds a third, each with its own
 * abort signal, and that alone costs ~1.5× a bare fetch's CPU per request (measured over
 * loopback HTTP, Node 20). ky's retries, timeout and HTTP errors are all off here anyway:
 * every behaviour of a request lives in this file, for both paths alike.
 */
import { type JobId, readErrorBody } from '@jobwatch/schema';
import type { KyInstance } from 'ky';
import type { ClientOperation, TokenHeader } from './api.js';
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
import type { Trace } from './hooks.js';
import { displayUrl, excerptOf, redact } from './redact.js';

/**
 * What a request is for: admin resources, the token endpoint (whose errors mean refused
 * credentials), or a portal item job's status (whose `status: "failed"` is the job's outcome,
 * not an error body: only an `error` member is an error there).
 */
export type RouteKind = 'admin' | 'token' | 'item';

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
  /** The client call this request serves, for the hooks. */
  readonly operation: ClientOperation;
}

/** The header a GET carries its token in. */
export type HeaderName = Exclude<TokenHeader, 'auto'>;

/** Per-call settings. */
export interface CallSettings {
  readonly signal?: AbortSignal | undefined;
  /** Milliseconds for the whole exchange, headers and body. */
  readonly timeout: number;
  /** The header a GET carries the token in. @default 'x-esri-authorization' */
  readonly header?: HeaderName;
  /** Where the call's hooks keep count of attempts and the last status; absent without hooks. */
  readonly trace?: Trace | undefined;
}

/** What the exchange needs from the client. */
export interface HttpContext {
  /** Sends POST operations and `generateToken` (form bodies). */
  readonly ky: KyInstance;
  /**
   * Sends GET reads: the fetch itself, called as a plain function with a URL and an init, so
   * that one poll builds one `Request` (ky builds three, and their abort signals, per call).
   */
  readonly fetch: typeof globalThis.fetch;
  /** The headers of a GET for a token in a header (see {@link headerCache}). */
  readonly headersFor: (
    token: string | undefined,
    header: HeaderName,
  ) => Readonly<Record<string, string>>;
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
 * The headers of GET requests for the current token, in either header: built once per
 * (token, header) and reused, so a poll allocates no header object of its own.
 */
export function headerCache(
  base: Readonly<Record<string, string>>,
): (token: string | undefined, header: HeaderName) => Readonly<Record<string, string>> {
  const none: Readonly<Record<string, string>> = Object.freeze({ ...base });
  const last = new Map<HeaderName, { token: string; headers: Readonly<Record<string, string>> }>();
  return (token, header) => {
    if (token === undefined) return none;
    const hit = last.get(header);
    if (hit?.token === token) return hit.headers;
    const headers = Object.freeze({ ...base, [header]: `Bearer ${token}` });
    last.set(header, { token, headers });
    return headers;
  };
}

/** The query string of a GET: `f=json` and the spec's parameters. Never a token. */
function getQuery(spec: RequestSpec): string {
  if (spec.params === undefined) return 'f=json';
  const query = new URLSearchParams({ f: 'json' });
  for (const [k, v] of Object.entries(spec.params)) query.set(k, v);
  return query.toString();
}

/**
 * Sends one request and returns the parsed JSON body once it is known not to be an error
 * body. Throws a typed error for everything else; never retries.
 *
 * The success path does only what every answer needs: one timer, one fetch, one body read,
 * one `JSON.parse`. Display URLs, secret lists, excerpts and `Retry-After` are worked out
 * only when an answer turns out to be trouble.
 */
export async function exchange(
  ctx: HttpContext,
  spec: RequestSpec,
  token: string | undefined,
  settings: CallSettings,
): Promise<unknown> {
  const { signal } = settings;
  if (signal?.aborted) {
    const where = displayUrl(spec.url);
    throw new AbortedError(`Request to ${where} aborted by the caller`, { url: where });
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

  let response: Response;
  let text: string;
  const { trace } = settings;
  if (trace) trace.attempts += 1;
  try {
    if (spec.method === 'GET') {
      response = await ctx.fetch(`${spec.url}?${getQuery(spec)}`, {
        headers: ctx.headersFor(token, settings.header ?? 'x-esri-authorization'),
        signal: attempt.signal,
      });
    } else {
      const body = new URLSearchParams(spec.params);
      body.set('f', 'json');
      if (token !== undefined) body.set('token', token);
      // The query is appended here rather than through ky's `searchParams`, which builds the
      // Request twice.
      response = await ctx.ky(`${spec.url}?f=json`, {
        method: 'POST',
        body,
        signal: attempt.signal,
      });
    }
    if (trace) trace.status = response.status;
    text = await readText(response, attempt.signal);
  } catch (error) {
    const where = displayUrl(spec.url);
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
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
  return classify({
    spec,
    status: response.status,
    headers: response.headers,
    text,
    secrets: ctx.secrets,
  });
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

/** A complete answer, as {@link classify} reads it. */
export interface Answer {
  readonly spec: RequestSpec;
  readonly status: number;
  /** Read only for trouble (`Retry-After`). */
  readonly headers: { get(name: string): string | null };
  readonly text: string;
  /** Every secret the client holds; asked only when an error is built. */
  readonly secrets: () => Iterable<string>;
}

/**
 * Whether a parsed body may be an ArcGIS error body, by the markers arcgis-rest-js reads: an
 * `error` member, a top-level `code`, or a `status` other than an upper-case job status. A
 * healthy job, service or list body has none of them, so the success path skips
 * `readErrorBody` altogether.
 */
function mayBeErrorBody(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  if (Object.hasOwn(body, 'error') || Object.hasOwn(body, 'code')) return true;
  const status = (body as { status?: unknown }).status;
  return typeof status === 'string' && status !== 'success' && /[a-z]/.test(status);
}

/**
 * Whether a body read at an item job's status is the status, whatever it reads: no `error`
 * member, and the item it is about named (a `status: "failed"` body without an `itemId` is an
 * error answer in the shape arcgis-rest-js reads).
 */
function isItemStatus(body: unknown): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    !Object.hasOwn(body, 'error') &&
    typeof (body as { itemId?: unknown }).itemId === 'string'
  );
}

const UNPARSED: unique symbol = Symbol('unparsed');

/** Turns a complete answer into the parsed body, or throws the error it means. */
export function classify(answer: Answer): unknown {
  const { status } = answer;
  if (status >= 200 && status < 300) {
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      return trouble(answer, UNPARSED);
    }
    if (!mayBeErrorBody(body)) return body;
    if (answer.spec.route === 'item' && isItemStatus(body)) return body;
    return trouble(answer, body);
  }
  return trouble(answer, UNPARSED);
}

/** The error an answer means (or, for a 2xx body that only looked like one, the body). */
function trouble(answer: Answer, parsed: unknown): unknown {
  const { spec, status, text } = answer;
  const where = displayUrl(spec.url);
  const secrets = [...answer.secrets()];
  const excerpt = () => excerptOf(text, secrets);
  const retryAfterMs = parseRetryAfter(answer.headers.get('retry-after'));

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

  let body: unknown = parsed;
  try {
    if (body === UNPARSED) body = JSON.parse(text);
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
