import {
  describeValue,
  isJobId,
  isSchemaError,
  type JobId,
  jobIdFromHandle,
  parseAdminSuccess,
  parseJob,
  parseJobHandle,
  parseJobList,
  parseService,
  parseServiceList,
  parseSiteInfo,
  type SchemaIssue,
  type Service,
  safeParseService,
} from '@jobwatch/schema';
import ky from 'ky';
import type {
  AdminClient,
  AdminClientOptions,
  CallOptions,
  OperationParams,
  ServiceRef,
  StartedJob,
  TokenTransport,
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
  type HttpContext,
  headerCache,
  REFRESHABLE_CODES,
  type RequestSpec,
} from './http.js';
import { displayUrl, redact } from './redact.js';
import { overridePolicy, resolveRetry, withRetries } from './retry.js';
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
const TRANSPORTS: readonly TokenTransport[] = ['x-esri-authorization', 'authorization', 'query'];
const RESERVED_PARAMS = new Set(['f', 'token']);

function checkTimeout(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT) {
    throw new ConfigError(`${what} must be a number of milliseconds between 1 and ${MAX_TIMEOUT}`);
  }
  return value;
}

/**
 * Runs a schema parser over a body the server sent. Any `SchemaError` (an unsafe job id in
 * a handle included: it is the server's answer that is wrong) becomes a
 * {@link ValidationError} that names the URL.
 */
function validated<T>(
  parse: (body: unknown) => T,
  body: unknown,
  url: string,
  what: string,
  hint = 'the server may be newer than this client',
): T {
  try {
    return parse(body);
  } catch (error) {
    if (!isSchemaError(error)) throw toJobwatchError(error);
    const where = displayUrl(url);
    throw new ValidationError(`Unexpected ${what} from ${where}: ${error.message}; ${hint}`, {
      issues: error.issues,
      url: where,
      cause: error,
    });
  }
}

function invalid(where: string, what: string, issue: SchemaIssue): ValidationError {
  return new ValidationError(
    `Unexpected ${what} from ${where}: ${issue.path}: expected ${issue.expected}, got ${issue.found}; the server may be misbehaving`,
    { issues: [issue], url: where },
  );
}

/** The handle of an async operation, as a {@link StartedJob}. */
function started(body: unknown, where: string): StartedJob {
  const handle = validated(
    parseJobHandle,
    body,
    where,
    'job handle',
    'check that this operation runs as a job (async=true)',
  );
  return { jobid: jobIdFromHandle(handle), jobsUrl: handle.jobsUrl, handle };
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
  const tokenTransport = options.tokenTransport ?? 'x-esri-authorization';
  if (!TRANSPORTS.includes(tokenTransport)) {
    throw new ConfigError(`tokenTransport must be one of ${TRANSPORTS.join(', ')}`);
  }
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
    headersFor: headerCache(headers, tokenTransport),
    tokenTransport,
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

  /** One call: token, retries by the rule above, one refresh on 498/499. */
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
    const settings = {
      signal,
      timeout:
        call?.timeout === undefined ? timeout : checkTimeout(call.timeout, 'options.timeout'),
    };
    const idempotent = spec.method === 'GET';
    const mayRetry = (e: JobwatchError) =>
      idempotent || (e instanceof TransportError && e.reason === TransportReason.CONNECT);
    const send = (token: string | undefined) =>
      withRetries(() => exchange(ctx, spec, token, settings), {
        policy: callPolicy,
        signal,
        mayRetry,
      });
    const refusal = (e: unknown) =>
      e instanceof AuthError && e.arcgisCode !== undefined && REFRESHABLE_CODES.has(e.arcgisCode);
    try {
      const token = await tokens.get(signal);
      try {
        return await send(token);
      } catch (error) {
        if (token === undefined || !tokens.canRefresh || !refusal(error)) throw error;
        const fresh = await tokens.refresh(token, signal);
        try {
          return await send(fresh);
        } catch (again) {
          if (!refusal(again)) throw again;
          const e = again as AuthError;
          throw new AuthError(
            `Token refused (${e.arcgisCode}) by ${e.url ?? root.url} even after a refresh: check the account and its privileges`,
            { url: e.url, arcgisCode: e.arcgisCode },
          );
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
    const job = validated(parseJob, await get(url, call, { jobid: id }), url, 'job body');
    if (job.jobid !== id) {
      throw invalid(displayUrl(url), 'job body', {
        pointer: '/jobid',
        path: 'job.jobid',
        expected: JSON.stringify(id),
        found: describeValue(job.jobid),
      });
    }
    return job;
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
    if (isAsync) return started(body, where);
    validated(parseAdminSuccess, body, where, 'answer');
    return undefined;
  }

  const client: AdminClient = {
    url: root.url,
    async getJob(jobid, call) {
      return fetchJob(jobId(jobid), call);
    },
    async getJobByUrl(jobsUrl, call) {
      return fetchJob(jobIdFromJobsUrl(root, jobsUrl), call);
    },
    async listJobs(call) {
      const url = `${root.url}/jobs`;
      const where = displayUrl(url);
      const list = validated(parseJobList, await get(url, call), where, 'jobs list');
      return list.jobs.map((id, i) => {
        if (isJobId(id)) return id;
        throw invalid(where, 'jobs list', {
          pointer: `/jobs/${i}`,
          path: `jobs.jobs[${i}]`,
          expected: 'a job id of letters, digits, "-" and "_" only',
          found: describeValue(redact(id)),
        });
      });
    },
    async getSiteInfo(call) {
      return validated(parseSiteInfo, await get(root.url, call), root.url, 'site info');
    },
    async listServices(call) {
      const folder = call?.folder;
      const url = `${root.url}/services${folder ? `/${segment(folder, 'folder')}` : ''}`;
      return validated(
        parseServiceList,
        await get(url, pick(call)),
        displayUrl(url),
        'services list',
      );
    },
    async getService(ref, call) {
      const url = serviceUrl(root, serviceParts(ref));
      return validated(parseService, await get(url, call), displayUrl(url), 'service');
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
      const checked = safeParseService(json);
      if (!checked.success) {
        throw new ValidationError(
          `The service JSON to send is invalid: ${checked.error.message}; fix it before editing`,
          {
            issues: checked.error.issues,
          },
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
      return started(await post(url, params, pick(call)), displayUrl(url));
    },
    operation: (async (path: string, params?: OperationParams, call?: CallOptions) => {
      const url = operationUrl(root, path);
      const body = await post(url, formParams(params, 'operation'), call);
      return params?.async === true ? started(body, displayUrl(url)) : body;
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
