/**
 * Jobs of every source through one client: ArcGIS Enterprise admin jobs, ArcGIS Server admin
 * jobs, geoprocessing jobs and portal item jobs are read with the client's tokens (in either
 * header, as every GET), retries and typed errors; GP jobs are submitted and cancelled, ArcGIS
 * Server admin operations started with `runAsync=true`. A request goes only to an origin the
 * client was configured for: a job URL elsewhere is refused before anything is sent, so a
 * token never reaches a host the user did not name.
 */
import {
  type GpJob,
  type GpJobRef,
  type JobId,
  type JobRef,
  JobRefError,
  jobIdFromHandle,
  jobRefUrl,
  parseJobRef,
  readSourceJob,
  type SafeParseResult,
  type SchemaWarning,
  type ServerJobRef,
  type SourceJob,
  safeParseGpJob,
  safeParseJobHandle,
} from '@jobwatch/schema';
import type {
  AdminClient,
  CallOptions,
  GpParams,
  GpSubmitted,
  SourceJobRead,
  StartServerJobOptions,
} from '../api.js';
import { ConfigError, InvalidJobIdError, toJobwatchError, ValidationError } from '../errors.js';
import type { RequestSpec } from '../http.js';
import { displayUrl } from '../redact.js';
import { type AdminRoot, operationUrl } from '../urls.js';

/** What the source methods need from the client they are part of. @internal */
export interface SourceTransport {
  readonly root: AdminRoot;
  /** Origins requests may go to: the admin URL's, and those given in `origins`. */
  readonly origins: ReadonlySet<string>;
  /**
   * The client's one request path: token, header rule, retries (a POST never sent twice once
   * it may have reached the server), error classes and hooks; `read` validates the answer.
   */
  readonly request: <T>(
    spec: RequestSpec,
    call: CallOptions | undefined,
    read: (body: unknown) => T,
  ) => Promise<T>;
  /** Reports a read's warnings (the client's `onWarnings`). */
  readonly sink: (
    kind: string,
    url: string,
    warnings: readonly SchemaWarning[],
    jobid?: string,
  ) => void;
}

/** The methods of {@link AdminClient} that speak every source. @internal */
export type SourceMethods = Pick<
  AdminClient,
  'readJobRef' | 'submitGpJob' | 'cancelGpJob' | 'startServerJob' | 'allowsOrigin'
>;

const RESERVED = new Set(['f', 'token']);

/** A reference, from a URL or as given, checked. @throws ConfigError (a bad URL is the caller's) */
function toRef(ref: JobRef | string): JobRef {
  try {
    return typeof ref === 'string' ? parseJobRef(ref) : parseJobRef(jobRefUrl(ref));
  } catch (error) {
    if (error instanceof JobRefError) throw new ConfigError(error.message, { cause: error });
    throw toJobwatchError(error);
  }
}

/**
 * A GP task URL, normalised: `https://host/<context>/rest/services/[<folder>/]<service>/GPServer/<task>`
 * (a trailing `/submitJob` or slash is dropped). @throws ConfigError
 */
export function parseTaskUrl(taskUrl: string): string {
  if (typeof taskUrl !== 'string') throw new ConfigError('The task URL must be a string');
  const trimmed = taskUrl
    .trim()
    .replace(/\/+$/, '')
    .replace(/\/submitJob$/i, '');
  if (/[?#]/.test(trimmed)) {
    throw new ConfigError(
      'The task URL must not carry a query or fragment: give https://host/<context>/rest/services/<service>/GPServer/<task>',
    );
  }
  const ref = toRef(`${trimmed}/jobs/j0`);
  if (ref.source !== 'gp') {
    throw new ConfigError(
      `Not a geoprocessing task URL (${displayUrl(trimmed)}): give https://host/<context>/rest/services/[<folder>/]<service>/GPServer/<task>`,
    );
  }
  return ref.taskUrl;
}

/** Form fields of a GP job: strings as they are, numbers and booleans as text, lists and objects as JSON. */
export function gpForm(params: GpParams | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params ?? {})) {
    if (RESERVED.has(key.toLowerCase())) {
      throw new ConfigError(`${what}: the parameter "${key}" is set by the client; remove it`);
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(key)) {
      throw new ConfigError(
        `${what}: the parameter name ${JSON.stringify(key.slice(0, 40))} must be letters, digits and "_"`,
      );
    }
    if (value === undefined) continue;
    if (typeof value === 'string') out[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
    else if (typeof value === 'object') out[key] = JSON.stringify(value);
    else
      throw new ConfigError(
        `${what}: the parameter "${key}" must be a string, number, boolean, list or object`,
      );
  }
  return out;
}

/** The source methods of a client. @internal */
export function sourceMethods(t: SourceTransport): SourceMethods {
  const allowsOrigin = (url: string): boolean => {
    try {
      return t.origins.has(new URL(url).origin);
    } catch {
      return false;
    }
  };
  const checkOrigin = (url: string) => {
    if (!allowsOrigin(url)) {
      const origin = new URL(url).origin;
      throw new ConfigError(
        `Refusing to send a request to ${origin}: this client is for ${t.root.origin}; add the origin to the client's origins to use its token there`,
      );
    }
  };

  /** Runs a reader over the server's answer; a body that is not the job is a ValidationError. */
  function validated<T>(
    result: SafeParseResult<T>,
    url: string,
    what: string,
    kind: string,
    jobid?: string,
  ): { data: T; warnings: readonly SchemaWarning[] } {
    const where = displayUrl(url);
    if (!result.success) {
      throw new ValidationError(
        `Unexpected ${what} from ${where}: ${result.error.message}; it is not the job asked for, or the URL does not lead to the ArcGIS REST API`,
        { issues: result.error.issues, url: where, cause: result.error },
      );
    }
    if (result.warnings.length > 0) t.sink(kind, where, result.warnings, jobid);
    return { data: result.data, warnings: result.warnings };
  }

  async function readJobRef(input: JobRef | string, call?: CallOptions): Promise<SourceJobRead> {
    const ref = toRef(input);
    const url =
      ref.source === 'item' ? (jobRefUrl(ref).split('?', 1)[0] as string) : jobRefUrl(ref);
    checkOrigin(url);
    const spec: RequestSpec =
      ref.source === 'item'
        ? {
            method: 'GET',
            url,
            operation: 'readJobRef',
            route: 'item',
            params: { jobType: ref.jobType, jobId: ref.jobid },
            jobid: ref.jobid as JobId,
          }
        : { method: 'GET', url, operation: 'readJobRef', jobid: ref.jobid as JobId };
    return t.request(spec, call, (body) => {
      let result: SafeParseResult<SourceJob>;
      try {
        result = readSourceJob(ref, body);
      } catch (error) {
        throw toJobwatchError(error);
      }
      const { data, warnings } = validated(result, url, 'job body', `${ref.source}Job`, ref.jobid);
      return { job: data, warnings, ref };
    });
  }

  /** One POST operation, its answer read by `read`. */
  const post = <T>(
    operation: 'submitGpJob' | 'cancelGpJob' | 'startServerJob',
    url: string,
    params: Record<string, string>,
    call: CallOptions | undefined,
    read: (body: unknown) => T,
  ) => t.request({ method: 'POST', url, params, operation }, call, read);

  async function submitGpJob(
    taskUrl: string,
    params?: GpParams,
    call?: CallOptions,
  ): Promise<GpSubmitted> {
    const task = parseTaskUrl(taskUrl);
    const form = gpForm(params, 'submitGpJob');
    const url = `${task}/submitJob`;
    checkOrigin(url);
    return post('submitGpJob', url, form, call, (body) => {
      const { data, warnings } = validated<GpJob>(
        safeParseGpJob(body),
        url,
        'submitJob answer',
        'gpJob',
      );
      const ref: GpJobRef = { source: 'gp', taskUrl: task, jobid: data.jobId };
      return { ref, job: { ...data, jobid: data.jobId, status: data.jobStatus }, warnings };
    });
  }

  async function cancelGpJob(input: GpJobRef | string, call?: CallOptions): Promise<SourceJobRead> {
    const ref = toRef(input);
    if (ref.source !== 'gp') {
      throw new ConfigError(
        `Only geoprocessing jobs can be cancelled (this is a ${ref.source} job); to stop watching, unsubscribe`,
      );
    }
    const url = `${jobRefUrl(ref)}/cancel`;
    checkOrigin(url);
    return post('cancelGpJob', url, {}, call, (body) => {
      const { data, warnings } = validated<GpJob>(
        safeParseGpJob(body, { jobid: ref.jobid }),
        url,
        'cancel answer',
        'gpJob',
        ref.jobid,
      );
      return { job: { ...data, jobid: data.jobId, status: data.jobStatus }, warnings, ref };
    });
  }

  async function startServerJob(
    path: string,
    params?: GpParams,
    options?: StartServerJobOptions,
  ): Promise<ServerJobRef> {
    const url = operationUrl(t.root, path);
    const form = gpForm(params, 'startServerJob');
    for (const key of Object.keys(form)) {
      if (key.toLowerCase() === 'runasync') {
        throw new ConfigError('startServerJob: runAsync is set by the client; remove it');
      }
    }
    return post('startServerJob', url, { ...form, runAsync: 'true' }, options, (body) => {
      const where = displayUrl(url);
      const handle = safeParseJobHandle(body);
      let jobid: string;
      try {
        if (!handle.success) throw handle.error;
        jobid = jobIdFromHandle(handle.data);
      } catch (error) {
        const e = toJobwatchError(error);
        if (e instanceof InvalidJobIdError) throw e;
        throw new ValidationError(
          `Unexpected answer from ${where}: ${e.message}; the operation did not start a job (does it take runAsync=true on this server?)`,
          { issues: 'issues' in e ? (e as ValidationError).issues : [], url: where, cause: e },
        );
      }
      const ref: ServerJobRef = { source: 'server', adminUrl: t.root.url, jobid };
      return ref;
    });
  }

  return { readJobRef, submitGpJob, cancelGpJob, startServerJob, allowsOrigin };
}

/**
 * The origins a client may send requests (and its token) to: its admin URL's, and each of
 * `origins` (absolute http(s) URLs or bare origins, e.g. the portal of a federated server).
 * @throws ConfigError for one that is not an http(s) origin
 */
export function allowedOrigins(
  root: AdminRoot,
  origins: readonly string[] | undefined,
): Set<string> {
  const out = new Set([root.origin]);
  if (origins === undefined) return out;
  if (!Array.isArray(origins)) throw new ConfigError('origins must be a list of URLs');
  for (const value of origins) {
    let url: URL;
    try {
      url = new URL(String(value));
    } catch {
      throw new ConfigError(
        `origins: ${JSON.stringify(String(value).slice(0, 60))} is not an absolute URL`,
      );
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) {
      throw new ConfigError(
        `origins: ${displayUrl(url)} must be an http(s) URL without credentials`,
      );
    }
    out.add(url.origin);
  }
  return out;
}
