import {
  type Job,
  type JobId,
  jobIdFromHandle,
  type ParseJobOptions,
  type SafeParseResult,
  type SchemaWarning,
  type Service,
  safeParseAdminSuccess,
  safeParseJob,
  safeParseJobHandle,
  safeParseJobList,
  safeParseService,
  safeParseServiceList,
  safeParseSiteInfo,
} from '@jobwatch/schema';
import ky from 'ky';
import type {
  AdminClient,
  AdminClientOptions,
  CallOptions,
  OperationParams,
  ServiceRef,
  StartedJob,
  TokenHeader,
  WarningsEvent,
} from './api.js';
import {
  credentialsTokenSource,
  fixedTokenSource,
  noTokenSource,
  providerTokenSource,
  type TokenSource,
} from './auth.js';
import {
  AuthError,
  ConfigError,
  type JobwatchError,
  TransportError,
  TransportReason,
  toJobwatchError,
  ValidationError,
} from './errors.js';
import {
  exchange,
  type HeaderName,
  type HttpContext,
  headerCache,
  REFRESHABLE_CODES,
  type RequestSpec,
} from './http.js';
import { displayUrl } from './redact.js';
import { overridePolicy, resolveRetry, withRetries } from './retry.js';
import { allowedOrigins, sourceMethods } from './sources/jobs.js';
import {
  type AdminRoot,
  assertSecureFor,
  deriveTokenUrl,
  jobId,
  jobIdFromJobsUrl,
  jobUrl,
  operationUrl,
  parseAdminRoot,
  parseHttpUrl,
  segment,
  serviceParts,
  serviceUrl,
} from './urls.js';

/** The per-request timeout when none is given. */
export const DEFAULT_TIMEOUT = 30_000;
const MAX_TIMEOUT = 2_147_483_647;
const TOKEN_HEADERS: readonly TokenHeader[] = ['auto', 'x-esri-authorization', 'authorization'];
const HEADER_NAMES: Readonly<Record<HeaderName, string>> = {
  'x-esri-authorization': 'X-Esri-Authorization',
  authorization: 'Authorization',
};
const otherHeader = (header: HeaderName): HeaderName =>
  header === 'authorization' ? 'x-esri-authorization' : 'authorization';
const RESERVED_PARAMS = new Set(['f', 'token']);

function checkTimeout(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT) {
    throw new ConfigError(`${what} must be a number of milliseconds between 1 and ${MAX_TIMEOUT}`);
  }
  return value;
}

/** Reports a read's warnings; a listener that throws never costs the read. */
type WarningSink = (
  kind: string,
  url: string,
  warnings: readonly SchemaWarning[],
  jobid?: JobId,
) => void;

/**
 * Runs a schema reader over a body the server sent. A `SchemaError` (the body is not what it
 * claims to be, an unsafe job id in a handle included: it is the server's answer that is
 * wrong) becomes a {@link ValidationError} that names the URL; warnings go to `sink`.
 */
function validated<T, C = undefined>(
  read: (body: unknown, context?: C) => SafeParseResult<T>,
  body: unknown,
  url: string,
  what: string,
  options: {
    readonly hint?: string;
    readonly context?: C;
    readonly sink?: WarningSink;
    readonly kind?: string;
    readonly jobid?: JobId;
  } = {},
): { data: T; warnings: readonly SchemaWarning[] } {
  let result: SafeParseResult<T>;
  try {
    result = read(body, options.context);
  } catch (error) {
    throw toJobwatchError(error);
  }
  const where = displayUrl(url);
  if (!result.success) {
    const hint = options.hint ?? 'the server may be newer than this client';
    throw new ValidationError(
      `Unexpected ${what} from ${where}: ${result.error.message}; ${hint}`,
      {
        issues: result.error.issues,
        url: where,
        cause: result.error,
      },
    );
  }
  if (result.warnings.length > 0 && options.sink && options.kind) {
    options.sink(options.kind, where, result.warnings, options.jobid);
  }
  return { data: result.data, warnings: result.warnings };
}

/** The handle of an async operation, as a {@link StartedJob}. */
function started(body: unknown, where: string, sink: WarningSink): StartedJob {
  const { data: handle } = validated(safeParseJobHandle, body, where, 'job handle', {
    hint: 'check that this operation runs as a job (async=true)',
    sink,
    kind: 'jobHandle',
  });
  const jobsUrl = typeof handle.jobsUrl === 'string' ? handle.jobsUrl : undefined;
  return { jobid: jobIdFromHandle(handle), jobsUrl, handle };
}

function formParams(params: OperationParams | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params ?? {})) {
    if (RESERVED_PARAMS.has(key.toLowerCase())) {
      throw new ConfigError(`${what}: the parameter "${key}" is set by the client; remove it`);
    }
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      throw new ConfigError(`${what}: the parameter "${key}" must be a string, number or boolean`);
    }
    out[key] = String(value);
  }
  return out;
}

/**
 * Creates a client for one ArcGIS Enterprise admin root. Nothing is requested until the
 * first call; configuration that cannot work or is unsafe throws {@link ConfigError} here.
 *
 * Retry rule: reads (GET, and `generateToken`) are retried on transient failures
 * (network, timeout, 5xx, 429, unreadable body) with exponential backoff and full jitter,
 * honouring `Retry-After`, within `retry.attempts` and `retry.deadline`. A POST operation is
 * **never** retried once the request may have reached the server, since a second POST could
 * start a second job; it is retried only when the connection failed before the request left
 * (refused, unknown host; Node only), or when the server refused the token (498/499), in
 * which case the token is refreshed once and the request sent once more.
 *
 * @example
 * ```ts
 * const client = createAdminClient({
 *   url: 'https://gis.example.com/arcgis/admin',
 *   auth: { type: 'credentials', username: 'admin', password },
 * });
 * const { jobid } = await client.stopService('Hydrants.MapServer', { async: true });
 * const job = await client.getJob(jobid);
 * ```
 * @throws {@link ConfigError} for a bad URL or timeout, or a token or password over plain
 * `http:` to a host other than this machine without `allowInsecureHttp`.
 */
export function createAdminClient(options: AdminClientOptions): AdminClient {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('createAdminClient needs an options object with at least { url }');
  }
  const root = parseAdminRoot(options.url);
  const now = options.now ?? Date.now;
  const timeout = checkTimeout(options.timeout ?? DEFAULT_TIMEOUT, 'timeout');
  const tokenHeader = resolveTokenHeader(options);
  /** The header GETs carry the token in now; with `auto`, the one that worked last. */
  let header: HeaderName = tokenHeader === 'auto' ? 'x-esri-authorization' : tokenHeader;
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
  let policy: ReturnType<typeof resolveRetry>;
  try {
    policy = resolveRetry(options.retry, now);
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}: fix the retry options`);
  }
  // `retry: false` on a call (a poll loop with its own backoff) costs no policy object per call.
  const oneAttempt = overridePolicy(policy, false);
  const allowInsecureHttp = options.allowInsecureHttp === true;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.userAgent !== undefined) headers['user-agent'] = options.userAgent;
  const userFetch = options.fetch;
  if (userFetch !== undefined && typeof userFetch !== 'function') {
    throw new ConfigError('fetch must be a function');
  }
  // Called as a plain function: a browser's `window.fetch` throws when called on another `this`.
  const fetchFn: typeof globalThis.fetch = userFetch
    ? (input, init) => userFetch(input, init)
    : (input, init) => globalThis.fetch(input, init);
  const http = ky.create({
    retry: 0,
    throwHttpErrors: false,
    timeout: false,
    headers,
    fetch: fetchFn,
  });

  // The exchange redacts every secret the token source holds; the source needs the exchange
  // to reach generateToken. `tokens` is set right below, before any request can run.
  let tokens: TokenSource = noTokenSource();
  const ctx: HttpContext = {
    ky: http,
    fetch: fetchFn,
    headersFor: headerCache(headers),
    secrets: () => tokens.secrets(),
  };
  tokens = makeTokenSource(options, root, {
    allowInsecureHttp,
    fetchToken: (url, params) =>
      withRetries(
        () =>
          exchange(ctx, { method: 'POST', url, params, route: 'token' }, undefined, { timeout }),
        {
          policy,
          mayRetry: () => true,
        },
      ),
    now,
  });

  /**
   * One call: token, retries by the rule above; on 499 with `tokenHeader: 'auto'` the other
   * header once; one refresh on 498/499.
   */
  async function request(spec: RequestSpec, call: CallOptions | undefined): Promise<unknown> {
    const signal = call?.signal;
    let callPolicy = policy;
    const retry = call?.retry;
    if (retry === false) callPolicy = oneAttempt;
    else if (retry !== undefined) {
      try {
        callPolicy = overridePolicy(policy, retry);
      } catch (error) {
        throw new ConfigError(`${(error as Error).message}: fix the retry options of this call`);
      }
    }
    const timeoutMs =
      call?.timeout === undefined ? timeout : checkTimeout(call.timeout, 'options.timeout');
    const idempotent = spec.method === 'GET';
    const mayRetry = (e: JobwatchError) =>
      idempotent || (e instanceof TransportError && e.reason === TransportReason.CONNECT);
    const send = (token: string | undefined, via: HeaderName) =>
      withRetries(() => exchange(ctx, spec, token, { signal, timeout: timeoutMs, header: via }), {
        policy: callPolicy,
        signal,
        mayRetry,
      });
    const refusal = (e: unknown): e is AuthError =>
      e instanceof AuthError && e.arcgisCode !== undefined && REFRESHABLE_CODES.has(e.arcgisCode);
    try {
      let token = await tokens.get(signal);
      let via = header;
      let switched = false;
      let refreshed = false;
      for (;;) {
        try {
          const body = await send(token, via);
          // Remember the header that worked, for every later request to this deployment.
          if (switched) header = via;
          return body;
        } catch (error) {
          if (token === undefined || !refusal(error)) throw error;
          // 499: the server saw no token, though one was sent. Behind a web tier that keeps
          // `Authorization` for itself, or on a server that reads only `Authorization`, the
          // other header is the one it reads: try it once.
          if (tokenHeader === 'auto' && idempotent && error.arcgisCode === 499 && !switched) {
            switched = true;
            via = otherHeader(via);
            continue;
          }
          if (!refreshed && tokens.canRefresh) {
            refreshed = true;
            token = await tokens.refresh(token, signal);
            // The fresh token goes in the deployment's header; both were tried already.
            via = header;
            continue;
          }
          if (!refreshed && !switched) throw error;
          const tried =
            switched && idempotent
              ? ` in ${HEADER_NAMES['x-esri-authorization']} and in ${HEADER_NAMES.authorization}`
              : '';
          const what =
            error.arcgisCode === 499
              ? `Token required (499) by ${error.url ?? root.url}: the server saw no token${tried}${refreshed ? ', even a fresh one' : ''}; check that a proxy or web tier passes the header through, or set tokenHeader`
              : `Token refused (${error.arcgisCode}) by ${error.url ?? root.url} even after a refresh: check the account and its privileges`;
          throw new AuthError(what, { url: error.url, arcgisCode: error.arcgisCode });
        }
      }
    } catch (error) {
      throw toJobwatchError(error);
    }
  }

  const get = (url: string, call: CallOptions | undefined, extra: Partial<RequestSpec> = {}) =>
    request({ method: 'GET', url, ...extra }, call);
  const post = (url: string, params: Record<string, string>, call: CallOptions | undefined) =>
    request({ method: 'POST', url, params }, call);

  async function fetchJob(id: JobId, call: CallOptions | undefined) {
    const url = jobUrl(root, id);
    const { data: job, warnings } = validated<Job, ParseJobOptions>(
      safeParseJob,
      await get(url, call, { jobid: id }),
      url,
      'job body',
      {
        context: { jobid: id },
        sink,
        kind: 'job',
        jobid: id,
        hint: 'it is not the job asked for; check that the URL is the admin API and that no proxy answers in its place',
      },
    );
    return { job, warnings };
  }

  /** Runs a service operation (start, stop, edit): async → handle, sync → `{status: "success"}`. */
  async function serviceOperation(
    ref: ServiceRef,
    op: 'start' | 'stop' | 'edit',
    params: Record<string, string>,
    call: (CallOptions & { readonly async?: boolean }) | undefined,
  ): Promise<StartedJob | undefined> {
    const url = `${serviceUrl(root, serviceParts(ref))}/${op}`;
    return finish(
      url,
      await post(url, withAsync(params, call?.async), pick(call)),
      call?.async === true,
    );
  }

  function finish(url: string, body: unknown, isAsync: boolean): StartedJob | undefined {
    const where = displayUrl(url);
    if (isAsync) return started(body, where, sink);
    validated(safeParseAdminSuccess, body, where, 'answer');
    return undefined;
  }

  const origins = allowedOrigins(root, options.origins);
  if (options.auth !== undefined && options.auth.type !== 'none') {
    for (const origin of origins) assertSecureFor(new URL(origin), 'token', allowInsecureHttp);
  }
  const sources = sourceMethods({
    root,
    origins,
    get,
    post,
    sink: (kind, url, warnings, jobid) => sink(kind, url, warnings, jobid as JobId | undefined),
  });

  const client: AdminClient = {
    ...sources,
    url: root.url,
    get tokenHeader() {
      return header;
    },
    async getJob(jobid, call) {
      return (await fetchJob(jobId(jobid), call)).job;
    },
    readJob(jobid, call) {
      return fetchJob(jobId(jobid), call);
    },
    async getJobByUrl(jobsUrl, call) {
      return (await fetchJob(jobIdFromJobsUrl(root, jobsUrl), call)).job;
    },
    async listJobs(call) {
      const url = `${root.url}/jobs`;
      // Entries that are not safe job ids are left out by the reader, with a warning.
      return validated(safeParseJobList, await get(url, call), url, 'jobs list', {
        sink,
        kind: 'jobs',
      }).data.jobs as JobId[];
    },
    async getSiteInfo(call) {
      return validated(safeParseSiteInfo, await get(root.url, call), root.url, 'site info', {
        sink,
        kind: 'site',
      }).data;
    },
    async listServices(call) {
      const folder = call?.folder;
      const url = `${root.url}/services${folder ? `/${segment(folder, 'folder')}` : ''}`;
      return validated(safeParseServiceList, await get(url, pick(call)), url, 'services list', {
        sink,
        kind: 'services',
      }).data;
    },
    async getService(ref, call) {
      const url = serviceUrl(root, serviceParts(ref));
      return validated(safeParseService, await get(url, call), url, 'service', {
        sink,
        kind: 'service',
      }).data;
    },
    startService: ((ref: ServiceRef, call?: CallOptions & { readonly async?: boolean }) =>
      serviceOperation(ref, 'start', {}, call)) as AdminClient['startService'],
    stopService: ((ref: ServiceRef, call?: CallOptions & { readonly async?: boolean }) =>
      serviceOperation(ref, 'stop', {}, call)) as AdminClient['stopService'],
    editService: (async (
      ref: ServiceRef,
      json: Service,
      call?: CallOptions & { readonly async?: boolean },
    ) => {
      // What is sent is checked strictly: a server may refuse what a reader would tolerate.
      const checked = safeParseService(json);
      const problem = !checked.success
        ? checked.error.issues[0]
        : (checked.warnings[0] ??
          (['serviceName', 'type'] as const)
            .filter((k) => typeof checked.data[k] !== 'string')
            .map((k) => ({ pointer: `/${k}`, expected: 'a string', found: 'missing' }))[0]);
      if (problem) {
        const path = `service${problem.pointer.replace(/\//g, '.')}`;
        throw new ValidationError(
          `The service JSON to send is invalid: ${path}: expected ${problem.expected}, got ${problem.found}; fix it before editing`,
          { issues: [{ ...problem, path }] },
        );
      }
      return serviceOperation(ref, 'edit', { service: JSON.stringify(json) }, call);
    }) as AdminClient['editService'],
    deleteServices: (async (
      refs: readonly ServiceRef[],
      call?: CallOptions & { readonly async?: boolean },
    ) => {
      if (!Array.isArray(refs) || refs.length === 0) {
        throw new ConfigError('deleteServices needs at least one service');
      }
      const services = refs.map((ref) => {
        const p = serviceParts(ref);
        return { serviceName: p.name, folderName: p.folder ?? '', type: p.type };
      });
      const url = `${root.url}/services/deleteServices`;
      const params = withAsync({ services: JSON.stringify(services) }, call?.async);
      return finish(url, await post(url, params, pick(call)), call?.async === true);
    }) as AdminClient['deleteServices'],
    async createBackup(call) {
      const store = segment(call.store, 'backup store');
      const params = formParams(call.params, 'createBackup');
      const url = `${root.url}/system/disasterrecovery/stores/${store}/backups/create`;
      return started(await post(url, params, pick(call)), displayUrl(url), sink);
    },
    operation: (async (path: string, params?: OperationParams, call?: CallOptions) => {
      const url = operationUrl(root, path);
      const body = await post(url, formParams(params, 'operation'), call);
      return params?.async === true ? started(body, displayUrl(url), sink) : body;
    }) as AdminClient['operation'],
  };
  return Object.freeze(client);
}

function withAsync(
  params: Record<string, string>,
  isAsync: boolean | undefined,
): Record<string, string> {
  return isAsync === true ? { ...params, async: 'true' } : params;
}

/** The {@link CallOptions} part of a wider options object. */
function pick(call: CallOptions | undefined): CallOptions | undefined {
  if (!call) return undefined;
  return {
    ...(call.signal ? { signal: call.signal } : {}),
    ...(call.timeout !== undefined ? { timeout: call.timeout } : {}),
    ...(call.retry !== undefined ? { retry: call.retry } : {}),
  };
}

function makeTokenSource(
  options: AdminClientOptions,
  root: AdminRoot,
  deps: {
    readonly allowInsecureHttp: boolean;
    readonly fetchToken: (url: string, params: Record<string, string>) => Promise<unknown>;
    readonly now: () => number;
  },
): TokenSource {
  const auth = options.auth ?? { type: 'none' as const };
  switch (auth.type) {
    case 'none':
      return noTokenSource();
    case 'token':
      if (typeof auth.token !== 'string' || !/^[^\s\u0000-\u001f\u007f]+$/.test(auth.token)) {
        throw new ConfigError(
          'auth.token must be a non-empty token without spaces or control characters',
        );
      }
      assertSecureFor(root, 'token', deps.allowInsecureHttp);
      return fixedTokenSource(auth.token);
    case 'provider':
      if (typeof auth.getToken !== 'function')
        throw new ConfigError('auth.getToken must be a function');
      assertSecureFor(root, 'token', deps.allowInsecureHttp);
      return providerTokenSource(auth.getToken);
    case 'credentials': {
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
    default:
      throw new ConfigError(
        `Unknown auth.type ${JSON.stringify(String((auth as { type?: unknown }).type))}: use token, credentials, provider or none`,
      );
  }
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
