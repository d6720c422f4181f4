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
import { watchJobRequest as watchJobRequestValidator } from './generated/watchJobRequest.js';
import { watchRequest as watchRequestValidator } from './generated/watchRequest.js';
import { type JobId, parseJobId } from './jobid.js';
import { normaliseMessages } from './messages.js';
import { type OperationInfo, parseOperationUri } from './operation.js';
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
import type { WatchJobRequest, WatchRequest } from './schemas/protocol.js';
import type { Service, ServiceList } from './schemas/service.js';
import { isKnownJobStatus, KNOWN_JOB_STATUSES } from './status.js';
import { excerpt, issueAt, tolerantParser } from './tolerant.js';
import { describeValue, NO_WARNINGS, parser, pointerToPath } from './validate.js';

/** Options of {@link parseJob}. */
export interface ParseJobOptions {
  /**
   * The job id asked for: a body about another job is refused (a proxy that mixed up
   * answers, or a server that redirected), whatever else it holds.
   */
  readonly jobid?: string;
}

const UNKNOWN_STATUS = `a known status (${KNOWN_JOB_STATUSES.join(', ')}; compared without regard to case)`;

const job = tolerantParser<Job, ParseJobOptions>('job', jobValidator, {
  exact: (pointer) => pointer === '/jobid' || pointer === '/status',
  check(data, _warnings, options) {
    const asked = (options as ParseJobOptions | undefined)?.jobid;
    if (asked !== undefined && data.jobid !== asked) {
      throw new SchemaError('job', [issueAt('job', '/jobid', JSON.stringify(asked), data.jobid)]);
    }
    return isKnownJobStatus(data.status)
      ? undefined
      : { pointer: '/status', expected: UNKNOWN_STATUS, found: excerpt(data.status) };
  },
});
/**
 * Reads a job body (already parsed from JSON): exact about what watching needs, tolerant
 * about the rest. The body must be an object with a safe `jobid` (equal to `options.jobid`
 * when given) and a string `status`; every other field is typed when it has its documented
 * shape, may be missing or `null`, and otherwise is repaired or taken out with a warning
 * (see {@link safeParseJob}, whose result lists them). An unknown status is kept, with a
 * warning. A FAILED job is a valid job.
 *
 * @example
 * ```ts
 * const job = parseJob(await (await fetch(`${root}/jobs/${jobid}?f=json`, { headers })).json(), { jobid });
 * if (jobOutcome(job.status) === 'failed') console.log(failureReason(job));
 * ```
 * @throws {@link SchemaError} only for a body that is not the job: no object, no or an
 * unsafe `jobid`, another job's id, no string `status`.
 */
export const parseJob: (input: unknown, options?: ParseJobOptions) => Job = job.parse;
/**
 * {@link parseJob} without throwing: `{ success: true, data, warnings }`, each warning
 * `{pointer, expected, found}` for a value that was not in its documented shape.
 */
export const safeParseJob: (input: unknown, options?: ParseJobOptions) => SafeParseResult<Job> =
  job.safeParse;

const jobList = tolerantParser<JobList>('jobs', jobListValidator, {
  exact: (pointer) => pointer === '/jobs',
});
/**
 * Reads the jobs collection: `jobs` must be a list; an entry that is not a safe job id is
 * left out, with a warning. @throws {@link SchemaError}
 */
export const parseJobList: (input: unknown) => JobList = jobList.parse;
/** Reads the jobs collection without throwing. */
export const safeParseJobList: (input: unknown) => SafeParseResult<JobList> = jobList.safeParse;

const ID_FIELDS = ['/jobid', '/jobID', '/jobsUrl'];
const handle = tolerantParser<JobHandle>('jobHandle', jobHandleValidator, {
  exact: () => false,
  check(data, warnings) {
    try {
      jobIdFromHandle(data);
    } catch (error) {
      // No id left: when one came in another shape, that is the problem to name.
      const named = ID_FIELDS.some((p) => typeof data[p.slice(1) as keyof JobHandle] === 'string');
      const dropped = warnings.find((w) => ID_FIELDS.includes(w.pointer));
      if (!named && dropped) {
        throw new SchemaError('jobHandle', [
          { ...dropped, path: pointerToPath('jobHandle', dropped.pointer) },
        ]);
      }
      throw error;
    }
    return undefined;
  },
});
/**
 * Reads a job handle and checks that it names a safe job id (in `jobid`, `jobID` or
 * `jobsUrl`); other fields are tolerated. @throws {@link SchemaError}
 */
export const parseJobHandle: (input: unknown) => JobHandle = handle.parse;
/** Reads a job handle, and checks that it names a job, without throwing. */
export const safeParseJobHandle: (input: unknown) => SafeParseResult<JobHandle> = handle.safeParse;

/**
 * {@link parseJobId} without throwing: `{ success: true, data, warnings: [] }` or
 * `{ success: false, error }` (code `INVALID_JOB_ID`).
 */
export function safeParseJobId(input: unknown): SafeParseResult<JobId> {
  try {
    return { success: true, data: parseJobId(input), warnings: NO_WARNINGS };
  } catch (error) {
    if (error instanceof SchemaError) return { success: false, error };
    throw error;
  }
}

/**
 * {@link parseOperationUri} for a value of any type: a string (or `null`/`undefined`) is
 * read, as `parseOperationUri` reads it; anything else is an error.
 */
export function safeParseOperationUri(input: unknown): SafeParseResult<OperationInfo> {
  if (input === undefined || input === null || typeof input === 'string') {
    return { success: true, data: parseOperationUri(input), warnings: NO_WARNINGS };
  }
  return {
    success: false,
    error: new SchemaError('operationURI', [
      issueAt('operationURI', '', 'a string, null or nothing', input),
    ]),
  };
}

const watchRequest = parser<WatchRequest>('body', watchRequestValidator);
/**
 * Validates the body of the daemon's `POST /api/jobs`: `{"jobid", "deployment"?}`, with a
 * safe job id. @throws {@link SchemaError}
 */
export const parseWatchRequest = watchRequest.parse;
/** Validates the body of the daemon's `POST /api/jobs` without throwing. */
export const safeParseWatchRequest = watchRequest.safeParse;

const watchJobRequest = parser<WatchJobRequest>('body', watchJobRequestValidator);
/**
 * Validates the body of the daemon's `POST /api/jobs` that names a job of any source:
 * `{"url", "deployment"?}` or `{"ref", "deployment"?}`. The URL or reference is read with
 * `parseJobRef` afterwards. @throws {@link SchemaError}
 */
export const parseWatchJobRequest = watchJobRequest.parse;
/** Validates a `POST /api/jobs` body of the URL or reference form without throwing. */
export const safeParseWatchJobRequest = watchJobRequest.safeParse;

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

const site = tolerantParser<SiteInfo>('site', siteInfoValidator, { exact: () => false });
/** Reads the admin root's site info (any object; fields tolerated). @throws {@link SchemaError} */
export const parseSiteInfo: (input: unknown) => SiteInfo = site.parse;
/** Reads the admin root's site info without throwing. */
export const safeParseSiteInfo: (input: unknown) => SafeParseResult<SiteInfo> = site.safeParse;

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

/** An error body, whichever shape it came in. */
export interface ArcGISErrorInfo {
  /** The code the server gave (`498`, `499`, `404`, `500`…), when it gave one. */
  readonly code: number | undefined;
  /**
   * One line: the message of format A, the messages of format B joined, the text of a
   * `statusMessage`; when the server gave no text at all, what it did give (`the server gave
   * no message (status "failed")`).
   */
  readonly message: string;
  /** Every message the body holds, one line each. */
  readonly messages: readonly string[];
  /** Format A's `details`. */
  readonly details: readonly string[];
  /** Portal errors' `messageCode`. */
  readonly messageCode: string | undefined;
  /**
   * Which shape it came in: `rest` (an `error` member), `admin` (`status` `error`, `failed`
   * or `failure`, with `messages` or a `statusMessage`), `code` (only a top-level `code` of
   * 400 or more).
   */
  readonly format: 'rest' | 'admin' | 'code';
  /** Whether the server gave any text (else {@link ArcGISErrorInfo.message} says what it gave). */
  readonly said: boolean;
}

const toCode = (code: unknown): number | undefined => {
  const n = typeof code === 'string' && /^\d+$/.test(code.trim()) ? Number(code) : code;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};

const lineOf = (value: unknown): string | undefined =>
  typeof value === 'string' ? value.replace(/\s+/g, ' ').trim() || undefined : undefined;

/** Strings, or messages of any shape, as lines of text. */
function linesOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return normaliseMessages(value).map((m) => m.text);
}

/**
 * A `statusMessage`: plain text, or JSON text with `message` (and `code`) as arcgis-rest-js
 * reads it.
 */
function readStatusMessage(value: unknown): { message?: string; code?: number } {
  const text = lineOf(value);
  if (text === undefined) return {};
  if (/^[{[]/.test(text)) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        const p = parsed as Record<string, unknown>;
        const message = lineOf(p.message) ?? lineOf(p.description) ?? linesOf(p.messages).join(' ');
        const code = toCode(p.code);
        return {
          ...(message ? { message } : {}),
          ...(code === undefined ? {} : { code }),
        };
      }
    } catch {
      // Not JSON after all: the text is the message.
    }
  }
  return { message: text };
}

const ERROR_STATUSES = new Set(['error', 'failed', 'failure']);

/**
 * Reads an error body, or `undefined` if `body` is not one. ArcGIS sends errors with HTTP
 * 200, so a client checks every JSON body with this before anything else. The shapes are
 * those arcgis-rest-js treats as errors:
 *
 * - an `error` member (format A), with or without a `code`, an object or a bare string;
 * - `status` `"error"`, `"failed"` or `"failure"` (any case; format B), with `messages`, a
 *   `message`, or a `statusMessage` that is plain text or JSON text;
 * - a top-level `code` of 400 or more.
 *
 * A body with a string `jobid` is a job (whose status may well read `failed`), never an error.
 */
export function readErrorBody(body: unknown): ArcGISErrorInfo | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.jobid === 'string') return undefined;
  const topCode = toCode(b.code);
  const status = typeof b.status === 'string' ? b.status.toLowerCase() : undefined;
  const error = b.error;

  let format: ArcGISErrorInfo['format'];
  let code = topCode;
  let messages: string[] = [];
  let details: string[] = [];
  let messageCode: string | undefined;
  let withoutText: string;
  if (error !== undefined && error !== null && error !== false && error !== '') {
    format = 'rest';
    if (typeof error === 'object' && !Array.isArray(error)) {
      const e = error as Record<string, unknown>;
      code = toCode(e.code) ?? topCode;
      details = linesOf(e.details);
      const message = lineOf(e.message) ?? lineOf(e.description);
      messages = message ? [message] : [];
      messageCode = lineOf(e.messageCode);
    } else {
      messages = linesOf(error);
    }
    withoutText = `the server reported an error${code === undefined ? '' : ` (code ${code})`} and gave no message`;
  } else if (status !== undefined && ERROR_STATUSES.has(status)) {
    format = 'admin';
    const fromStatus = readStatusMessage(b.statusMessage);
    code = topCode ?? fromStatus.code;
    messages = [
      ...linesOf(b.messages),
      ...(fromStatus.message ? [fromStatus.message] : []),
      ...linesOf(b.message),
    ];
    withoutText = `the server answered status ${JSON.stringify(b.status)} and gave no message`;
  } else if (topCode !== undefined && topCode >= 400) {
    format = 'code';
    messages = [...linesOf(b.message), ...linesOf(b.messages)];
    details = linesOf(b.details);
    withoutText = `the server answered code ${topCode} and gave no message`;
  } else {
    return undefined;
  }
  const message = messages.join(' ').trim() || details[0] || withoutText;
  return {
    code,
    message,
    messages: messages.length ? messages : [message],
    details,
    messageCode,
    format,
    said: messages.length > 0 || details.length > 0,
  };
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
  if (typeof h.jobid === 'string') return jobIdAt('/jobid', h.jobid);
  if (typeof h.jobID === 'string') return jobIdAt('/jobID', h.jobID);
  if (typeof h.jobsUrl === 'string') {
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

const service = tolerantParser<Service>('service', serviceValidator, { exact: () => false });
/**
 * Reads service JSON: any object; every field typed when it has its documented shape,
 * tolerated (with a warning) when not. @throws {@link SchemaError} for a body that is not an object.
 */
export const parseService: (input: unknown) => Service = service.parse;
/** Reads service JSON without throwing. */
export const safeParseService: (input: unknown) => SafeParseResult<Service> = service.safeParse;

const serviceList = tolerantParser<ServiceList>('services', serviceListValidator, {
  exact: (pointer) => pointer === '/services',
});
/** Reads a services list: `services` must be a list; entries are tolerated. @throws {@link SchemaError} */
export const parseServiceList: (input: unknown) => ServiceList = serviceList.parse;
/** Reads a services list without throwing. */
export const safeParseServiceList: (input: unknown) => SafeParseResult<ServiceList> =
  serviceList.safeParse;
