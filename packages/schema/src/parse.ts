/**
 * Parsing: every `parse*`/`safeParse*` function, and the readers built on them. Each runs a
 * validator generated ahead of time from the TypeBox schemas (`generated/<name>.ts`), so
 * nothing here compiles code or needs `'unsafe-eval'`, and this module imports the schemas
 * as types only: a bundle that only parses carries neither typebox nor ajv's compiler.
 */

import { type SafeParseResult, SchemaError } from './errors.js';
import { adminErrorBody as adminErrorBodyValidator } from './generated/adminErrorBody.js';
import { adminSuccess as adminSuccessValidator } from './generated/adminSuccess.js';
import { job as jobValidator } from './generated/job.js';
import { jobHandle as jobHandleValidator } from './generated/jobHandle.js';
import { jobList as jobListValidator } from './generated/jobList.js';
import { restErrorBody as restErrorBodyValidator } from './generated/restErrorBody.js';
import { service as serviceValidator } from './generated/service.js';
import { serviceList as serviceListValidator } from './generated/serviceList.js';
import { siteInfo as siteInfoValidator } from './generated/siteInfo.js';
import { tokenResponse as tokenResponseValidator } from './generated/tokenResponse.js';
import { type JobId, parseJobId } from './jobid.js';
import type {
  AdminErrorBody,
  AdminSuccess,
  Job,
  JobHandle,
  JobList,
  RestErrorBody,
  SiteInfo,
  TokenResponse,
} from './schemas/bodies.js';
import type { Service, ServiceList } from './schemas/service.js';
import { describeValue, parser, pointerToPath } from './validate.js';

const job = parser<Job>('job', jobValidator);
/**
 * Validates a job body (already parsed from JSON). A FAILED job is a valid job.
 *
 * @example
 * ```ts
 * const job = parseJob(await (await fetch(`${root}/jobs/${jobid}?f=json`, { headers })).json());
 * if (jobOutcome(job.status) === 'failed') console.log(job.messages);
 * ```
 * @throws {@link SchemaError} naming the first problem, e.g. `job.status: expected a string, got 42`.
 */
export const parseJob = job.parse;
/** Validates a job body without throwing. */
export const safeParseJob = job.safeParse;

const jobList = parser<JobList>('jobs', jobListValidator);
/** Validates the jobs collection. @throws {@link SchemaError} */
export const parseJobList = jobList.parse;
/** Validates the jobs collection without throwing. */
export const safeParseJobList = jobList.safeParse;

const handle = parser<JobHandle>('jobHandle', jobHandleValidator);
/** Validates a job handle and checks that it names a job. @throws {@link SchemaError} */
export function parseJobHandle(input: unknown): JobHandle {
  const body = handle.parse(input);
  jobIdFromHandle(body);
  return body;
}
/** Validates a job handle, and checks that it names a job, without throwing. */
export function safeParseJobHandle(input: unknown): SafeParseResult<JobHandle> {
  const result = handle.safeParse(input);
  if (!result.success) return result;
  try {
    jobIdFromHandle(result.data);
    return result;
  } catch (error) {
    if (error instanceof SchemaError) return { success: false, error };
    throw error;
  }
}

const adminSuccess = parser<AdminSuccess>('adminSuccess', adminSuccessValidator);
/** Validates `{"status":"success"}`. @throws {@link SchemaError} */
export const parseAdminSuccess = adminSuccess.parse;
/** Validates `{"status":"success"}` without throwing. */
export const safeParseAdminSuccess = adminSuccess.safeParse;

// The token never appears in an error, whatever went wrong with it, nor does a whole body
// that is not an object (a bare string there may well be a token).
const token = parser<TokenResponse>('token', tokenResponseValidator, { secret: ['', '/token'] });
/** Validates a `generateToken` answer. @throws {@link SchemaError} */
export const parseTokenResponse = token.parse;
/** Validates a `generateToken` answer without throwing. */
export const safeParseTokenResponse = token.safeParse;

const site = parser<SiteInfo>('site', siteInfoValidator);
/** Validates the admin root's site info. @throws {@link SchemaError} */
export const parseSiteInfo = site.parse;
/** Validates the admin root's site info without throwing. */
export const safeParseSiteInfo = site.safeParse;

const restError = parser<RestErrorBody>('error', restErrorBodyValidator);
/** Validates error format A. @throws {@link SchemaError} */
export const parseRestErrorBody = restError.parse;
/** Validates error format A without throwing. */
export const safeParseRestErrorBody = restError.safeParse;

const adminError = parser<AdminErrorBody>('error', adminErrorBodyValidator);
/** Validates error format B. @throws {@link SchemaError} */
export const parseAdminErrorBody = adminError.parse;
/** Validates error format B without throwing. */
export const safeParseAdminErrorBody = adminError.safeParse;

/** The token's expiry in epoch ms, whichever type the server sent. */
export function tokenExpiresAt(response: Pick<TokenResponse, 'expires'>): number {
  return typeof response.expires === 'number' ? response.expires : Number(response.expires);
}

/** An error body, whichever of the two formats it came in. */
export interface ArcGISErrorInfo {
  /** The code the server gave (`498`, `499`, `404`, `500`…), when it gave one. */
  readonly code: number | undefined;
  /** One line: the message of format A, or the messages of format B joined. */
  readonly message: string;
  /** Format B's `messages`, or format A's message. */
  readonly messages: readonly string[];
  /** Format A's `details`. */
  readonly details: readonly string[];
  /** Portal errors' `messageCode`. */
  readonly messageCode: string | undefined;
  /** Which format it came in. */
  readonly format: 'rest' | 'admin';
}

const toCode = (code: unknown): number | undefined => {
  const n = typeof code === 'string' && /^\d+$/.test(code.trim()) ? Number(code) : code;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};

/**
 * Reads an error body in either format, or `undefined` if `body` is not one. ArcGIS sends
 * errors with HTTP 200, so a client checks every JSON body with this before anything else.
 */
export function readErrorBody(body: unknown): ArcGISErrorInfo | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const a = restError.safeParse(body);
  if (a.success) {
    const e = a.data.error;
    const details = Array.isArray(e.details)
      ? e.details
      : typeof e.details === 'string'
        ? [e.details]
        : [];
    const message = e.message?.trim() || details[0] || 'Unknown error';
    return {
      code: toCode(e.code),
      message,
      messages: [message],
      details,
      messageCode: e.messageCode,
      format: 'rest',
    };
  }
  const b = adminError.safeParse(body);
  if (b.success) {
    const messages = b.data.messages ?? [];
    const message = messages.join(' ').trim() || `Operation ${b.data.status}`;
    return {
      code: toCode(b.data.code),
      message,
      messages,
      details: [],
      messageCode: undefined,
      format: 'admin',
    };
  }
  return undefined;
}

/**
 * The job id named by a handle: `jobid`, then `jobID`, then the last path segment of
 * `jobsUrl` (which must end in `/jobs/<id>`; a query string, fragment or trailing slash is
 * ignored), validated as a {@link JobId}.
 *
 * @throws {@link SchemaError} when the handle names no job (`SCHEMA_INVALID`) or an unsafe
 * one (`INVALID_JOB_ID`); the issue's path names the field it came from.
 * @example
 * ```ts
 * jobIdFromHandle({ jobsUrl: 'https://h/ctx/admin/jobs/j47c0c626-7188-4053-be06-ae93de987b01' });
 * // 'j47c0c626-7188-4053-be06-ae93de987b01'
 * ```
 */
export function jobIdFromHandle(h: JobHandle): JobId {
  if (h.jobid !== undefined) return jobIdAt('/jobid', h.jobid);
  if (h.jobID !== undefined) return jobIdAt('/jobID', h.jobID);
  if (h.jobsUrl !== undefined) {
    // Only the path is read (and ever shown): a query string is none of our business.
    const path = h.jobsUrl.split(/[?#]/, 1)[0] ?? '';
    const segments = path.replace(/\/+$/, '').split('/');
    const id = segments.pop() ?? '';
    if (segments.pop() !== 'jobs') {
      throw new SchemaError('jobHandle', [
        {
          pointer: '/jobsUrl',
          path: 'jobHandle.jobsUrl',
          expected: 'a URL ending in /jobs/<job id>',
          found: describeValue(path),
        },
      ]);
    }
    return jobIdAt('/jobsUrl', id);
  }
  throw new SchemaError('jobHandle', [
    {
      pointer: '/jobid',
      path: 'jobHandle.jobid',
      expected: 'a job id in jobid, jobID or jobsUrl',
      found: describeValue(undefined),
    },
  ]);
}

/** {@link parseJobId}, with the error pointing at the handle field the id came from. */
function jobIdAt(pointer: string, value: string): JobId {
  try {
    return parseJobId(value);
  } catch (error) {
    if (!(error instanceof SchemaError)) throw error;
    const issues = error.issues.map((issue) => ({
      ...issue,
      pointer,
      path: pointerToPath('jobHandle', pointer),
    }));
    throw new SchemaError('jobHandle', issues, error.code);
  }
}

const service = parser<Service>('service', serviceValidator);
/** Validates service JSON. @throws {@link SchemaError} */
export const parseService = service.parse;
/** Validates service JSON without throwing. */
export const safeParseService = service.safeParse;

const serviceList = parser<ServiceList>('services', serviceListValidator);
/** Validates a services list. @throws {@link SchemaError} */
export const parseServiceList = serviceList.parse;
/** Validates a services list without throwing. */
export const safeParseServiceList = serviceList.safeParse;
