/**
 * The admin API's calls: each builds its URL from checked pieces (`urls.ts`), sends it through
 * the requester and validates the answer with `@jobwatch/schema`, warnings told to the sink.
 */
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
import type {
  AdminClient,
  CallOptions,
  ClientOperation,
  OperationParams,
  ServiceRef,
  StartedJob,
} from './api.js';
import { ConfigError, toJobwatchError, ValidationError } from './errors.js';
import { displayUrl } from './redact.js';
import type { Requester } from './request.js';
import type { ClientSettings, WarningSink } from './settings.js';
import type { SourceMethods } from './sources/jobs.js';
import {
  jobId,
  jobIdFromJobsUrl,
  jobUrl,
  operationUrl,
  segment,
  serviceParts,
  serviceUrl,
} from './urls.js';

const RESERVED_PARAMS = new Set(['f', 'token']);

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

/** The admin API's calls, each a URL built from checked pieces and a validated answer. */
export function adminMethods(
  settings: ClientSettings,
  requester: Requester,
): Omit<AdminClient, keyof SourceMethods> {
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
    async listServerJobs(call) {
      // ArcGIS Server lists its admin jobs in the same shape, one level down.
      const url = `${root.url}/system/jobs`;
      const list = await read(
        'listServerJobs',
        url,
        call,
        safeParseJobList,
        'server jobs list',
        'jobs',
      );
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
      const url = `${root.url}/services/deleteServices`;
      const params = withAsync({ services: servicesParam(refs) }, call?.async);
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

/** The `services` field of `deleteServices`: `[{serviceName, folderName, type}]`, each part checked. */
function servicesParam(refs: readonly ServiceRef[]): string {
  if (!Array.isArray(refs) || refs.length === 0) {
    throw new ConfigError('deleteServices needs at least one service');
  }
  const services = refs.map((ref) => {
    const p = serviceParts(ref);
    return { serviceName: p.name, folderName: p.folder ?? '', type: p.type };
  });
  return JSON.stringify(services);
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
