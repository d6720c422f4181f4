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
  AuthProvider,
  CallOptions,
  ClientHooks,
  ClientOperation,
  OperationParams,
  ServiceRef,
  StartedJob,
  TokenHeader,
  WarningsEvent,
} from './api.js';
import { noTokenSource, type TokenSource, tokenSourceFor } from './auth.js';
import {
  AuthError,
  ConfigError,
  type JobwatchError,
  TransportError,
  TransportReason,
  toJobwatchError,
  ValidationError,
} from './errors.js';
import { checkHooks, observed, type Trace } from './hooks.js';
import {
  exchange,
  type HeaderName,
  type HttpContext,
  headerCache,
  REFRESHABLE_CODES,
  type RequestSpec,
} from './http.js';
import { displayUrl } from './redact.js';
import { overridePolicy, type RetryPolicy, resolveRetry, withRetries } from './retry.js';
import {
  type AdminRoot,
  jobId,
  jobIdFromJobsUrl,
  jobUrl,
  operationUrl,
  parseAdminRoot,
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
  const settings = clientSettings(options);
  const requester = createRequester(settings, options.auth);
  return Object.freeze(adminMethods(settings, requester));
}

/** Everything `createAdminClient` reads from its options, checked once. */
interface ClientSettings {
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
function clientSettings(options: AdminClientOptions): ClientSettings {
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

/** Sends the client's requests; `request` resolves with what `read` makes of the body. */
interface Requester {
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
function createRequester(settings: ClientSettings, auth: AuthProvider | undefined): Requester {
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

/** The admin API's calls, each a URL built from checked pieces and a validated answer. */
function adminMethods(settings: ClientSettings, requester: Requester): AdminClient {
  const { root, sink } = settings;
  const { request } = requester;

  async function fetchJob(id: JobId, call: CallOptions | undefined, operation: ClientOperation) {
    const url = jobUrl(root, id);
    return request({ method: 'GET', url, jobid: id, operation }, call, (body) => {
      const { data: job, warnings } = validated<Job, ParseJobOptions>(
        safeParseJob,
        body,
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
    });
  }

  /** A GET read with `reader`, its warnings told as `kind`. */
  async function read<T>(
    operation: ClientOperation,
    url: string,
    call: CallOptions | undefined,
    reader: (body: unknown) => SafeParseResult<T>,
    what: string,
    kind?: string,
  ): Promise<T> {
    return request({ method: 'GET', url, operation }, call, (body) =>
      kind === undefined
        ? validated(reader, body, url, what).data
        : validated(reader, body, url, what, { sink, kind }).data,
    );
  }

  /**
   * A POST that may run as a job: async → the started job, sync → `{status: "success"}`
   * checked and `undefined`.
   */
  async function post(
    operation: ClientOperation,
    url: string,
    params: Record<string, string>,
    call: CallOptions | undefined,
    isAsync: boolean,
  ): Promise<StartedJob | undefined> {
    return request({ method: 'POST', url, params, operation }, call, (body) => {
      const where = displayUrl(url);
      if (isAsync) return started(body, where, sink);
      validated(safeParseAdminSuccess, body, where, 'answer');
      return undefined;
    });
  }

  /** Runs a service operation (start, stop, edit): async → handle, sync → `{status: "success"}`. */
  async function serviceOperation(
    ref: ServiceRef,
    op: 'start' | 'stop' | 'edit',
    params: Record<string, string>,
    call: (CallOptions & { readonly async?: boolean }) | undefined,
  ): Promise<StartedJob | undefined> {
    const url = `${serviceUrl(root, serviceParts(ref))}/${op}`;
    const operation = `${op}Service` as const;
    return post(operation, url, withAsync(params, call?.async), pick(call), call?.async === true);
  }

  return {
    url: root.url,
    get tokenHeader() {
      return requester.header;
    },
    async getJob(jobid, call) {
      return (await fetchJob(jobId(jobid), call, 'getJob')).job;
    },
    readJob(jobid, call) {
      return fetchJob(jobId(jobid), call, 'readJob');
    },
    async getJobByUrl(jobsUrl, call) {
      return (await fetchJob(jobIdFromJobsUrl(root, jobsUrl), call, 'getJobByUrl')).job;
    },
    async listJobs(call) {
      // Entries that are not safe job ids are left out by the reader, with a warning.
      const url = `${root.url}/jobs`;
      const list = await read('listJobs', url, call, safeParseJobList, 'jobs list', 'jobs');
      return list.jobs as JobId[];
    },
    async getSiteInfo(call) {
      return read('getSiteInfo', root.url, call, safeParseSiteInfo, 'site info', 'site');
    },
    async listServices(call) {
      const folder = call?.folder;
      const url = `${root.url}/services${folder ? `/${segment(folder, 'folder')}` : ''}`;
      return read(
        'listServices',
        url,
        pick(call),
        safeParseServiceList,
        'services list',
        'services',
      );
    },
    async getService(ref, call) {
      const url = serviceUrl(root, serviceParts(ref));
      return read('getService', url, call, safeParseService, 'service', 'service');
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
      checkServiceJson(json);
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
      return post('deleteServices', url, params, pick(call), call?.async === true);
    }) as AdminClient['deleteServices'],
    async createBackup(call) {
      const store = segment(call.store, 'backup store');
      const params = formParams(call.params, 'createBackup');
      const url = `${root.url}/system/disasterrecovery/stores/${store}/backups/create`;
      return (await post('createBackup', url, params, pick(call), true)) as StartedJob;
    },
    operation: (async (path: string, params?: OperationParams, call?: CallOptions) => {
      const url = operationUrl(root, path);
      const form = formParams(params, 'operation');
      return request({ method: 'POST', url, params: form, operation: 'operation' }, call, (body) =>
        params?.async === true ? started(body, displayUrl(url), sink) : body,
      );
    }) as AdminClient['operation'],
  };
}

/**
 * What `editService` sends is checked strictly: a server may refuse what a reader would
 * tolerate. @throws {@link ValidationError}
 */
function checkServiceJson(json: Service): void {
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
