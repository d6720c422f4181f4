import Type, { type Static } from 'typebox';
import { type SafeParseResult, SchemaError } from './errors.js';
import { type JobId, parseJobId } from './jobid.js';
import { ServiceSchema } from './service.js';
import { JobStatus, type JobStatusValue } from './status.js';
import { describeValue, parser, pointerToPath } from './validate.js';

/** A job status: any string, with the known values named (see {@link JobStatus}). */
export const JobStatusSchema = Type.Unsafe<JobStatusValue>(
  Type.String({
    description: `A job status. Known values: ${Object.values(JobStatus).join(', ')}; any other string is kept verbatim.`,
  }),
);

/** One stage of a backup job's result: `{"name":"Validation","state":"completed",…}`. */
export const BackupStageSchema = Type.Object(
  {
    name: Type.String(),
    state: Type.String(),
    duration: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    lastUpdated: Type.Optional(Type.Number()),
  },
  { additionalProperties: true },
);
/** One stage of a backup. */
export type BackupStage = Static<typeof BackupStageSchema>;

/** A job's `result`: its shape depends on the operation. Edits carry `service`, backups `stages`. */
export const JobResultSchema = Type.Object(
  {
    service: Type.Optional(ServiceSchema),
    stages: Type.Optional(Type.Array(BackupStageSchema)),
  },
  { additionalProperties: true },
);
/** A job's result. */
export type JobResult = Static<typeof JobResultSchema>;

/**
 * The job resource, `GET <root>/jobs/<jobid>?f=json`. Unknown fields are kept.
 * `endtime` is `0` until the job ends; `result` appears on COMPLETED and FAILED jobs.
 */
export const JobSchema = Type.Object(
  {
    jobid: Type.String({
      description: 'The job id: `j` and a dashed UUID, or `j` and 32 hex digits.',
    }),
    status: JobStatusSchema,
    starttime: Type.Number({ description: 'Epoch milliseconds when the job started.' }),
    endtime: Type.Number({
      description: 'Epoch milliseconds when the job ended; `0` until it has.',
    }),
    updatedtime: Type.Number({ description: 'Epoch milliseconds of the last update.' }),
    operationURI: Type.String({
      description:
        'The operation that made the job, with context: `/context/admin/services/Name.MapServer/edit`.',
    }),
    username: Type.String({ description: 'Who submitted the job.' }),
    result: Type.Optional(JobResultSchema),
    messages: Type.Optional(
      Type.Array(Type.String(), { description: 'Messages of a failed or cancelled job.' }),
    ),
  },
  {
    additionalProperties: true,
    description:
      'An ArcGIS Enterprise admin job, `GET <root>/jobs/<jobid>?f=json`. Unknown fields are kept.',
  },
);
/** A job body. */
export type Job = Static<typeof JobSchema>;

/** `GET <root>/jobs?f=json`: ids only, order undocumented. */
export const JobListSchema = Type.Object(
  { jobs: Type.Array(Type.String()) },
  { additionalProperties: true },
);
/** The jobs collection. */
export type JobList = Static<typeof JobListSchema>;

/**
 * The immediate answer of an operation run with `async=true`. Its spelling differs by
 * operation: `stop` answers `jobID` and `jobStatus`, backup `create` a lower-case `jobid`;
 * both carry `jobsUrl`. Read the id with {@link jobIdFromHandle}.
 */
export const JobHandleSchema = Type.Object(
  {
    jobsUrl: Type.Optional(Type.String()),
    jobid: Type.Optional(Type.String()),
    jobID: Type.Optional(Type.String()),
    jobStatus: Type.Optional(JobStatusSchema),
  },
  { additionalProperties: true },
);
/** A job handle. */
export type JobHandle = Static<typeof JobHandleSchema>;

/** `{"status": "success"}`: a synchronous operation's answer. */
export const AdminSuccessSchema = Type.Object(
  { status: Type.Literal('success') },
  { additionalProperties: true },
);
/** An admin success body. */
export type AdminSuccess = Static<typeof AdminSuccessSchema>;

/** Error format A (REST, portal): `{"error": {"code": 498, "message": "Invalid token.", "details": []}}`. */
export const RestErrorBodySchema = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.Union([Type.Number(), Type.String()]),
        message: Type.Optional(Type.String()),
        details: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null(), Type.String()])),
        messageCode: Type.Optional(Type.String()),
      },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: true },
);
/** Error format A. */
export type RestErrorBody = Static<typeof RestErrorBodySchema>;

/** Error format B (admin operations): `{"status": "error", "messages": ["…"], "code": 499}`. */
export const AdminErrorBodySchema = Type.Object(
  {
    status: Type.Union([Type.Literal('error'), Type.Literal('failed')]),
    messages: Type.Optional(Type.Array(Type.String())),
    code: Type.Optional(Type.Union([Type.Number(), Type.String()])),
  },
  { additionalProperties: true },
);
/** Error format B. */
export type AdminErrorBody = Static<typeof AdminErrorBodySchema>;

/** `generateToken`'s answer. `expires` is epoch ms, a numeric string on some older servers. */
export const TokenResponseSchema = Type.Object(
  {
    token: Type.String({ minLength: 1 }),
    expires: Type.Union([Type.Number(), Type.String({ pattern: '^[0-9]+$' })]),
    ssl: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);
/** A token response. */
export type TokenResponse = Static<typeof TokenResponseSchema>;

/** `GET <root>?f=json`: the site's resources and version. */
export const SiteInfoSchema = Type.Object(
  {
    currentVersion: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    fullVersion: Type.Optional(Type.String()),
    resources: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: true },
);
/** The admin root's site info. */
export type SiteInfo = Static<typeof SiteInfoSchema>;

const job = parser<Job>('job', JobSchema);
/**
 * Validates a job body (already parsed from JSON). A FAILED job is a valid job.
 * @throws {@link SchemaError} naming the first problem, e.g. `job.status: expected a string, got 42`.
 */
export const parseJob = job.parse;
/** Validates a job body without throwing. */
export const safeParseJob = job.safeParse;

const jobList = parser<JobList>('jobs', JobListSchema);
/** Validates the jobs collection. @throws {@link SchemaError} */
export const parseJobList = jobList.parse;
/** Validates the jobs collection without throwing. */
export const safeParseJobList = jobList.safeParse;

const handle = parser<JobHandle>('jobHandle', JobHandleSchema);
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

const adminSuccess = parser<AdminSuccess>('adminSuccess', AdminSuccessSchema);
/** Validates `{"status":"success"}`. @throws {@link SchemaError} */
export const parseAdminSuccess = adminSuccess.parse;
/** Validates `{"status":"success"}` without throwing. */
export const safeParseAdminSuccess = adminSuccess.safeParse;

// The token never appears in an error, whatever went wrong with it, nor does a whole body
// that is not an object (a bare string there may well be a token).
const token = parser<TokenResponse>('token', TokenResponseSchema, { secret: ['', '/token'] });
/** Validates a `generateToken` answer. @throws {@link SchemaError} */
export const parseTokenResponse = token.parse;
/** Validates a `generateToken` answer without throwing. */
export const safeParseTokenResponse = token.safeParse;

const site = parser<SiteInfo>('site', SiteInfoSchema);
/** Validates the admin root's site info. @throws {@link SchemaError} */
export const parseSiteInfo = site.parse;
/** Validates the admin root's site info without throwing. */
export const safeParseSiteInfo = site.safeParse;

const restError = parser<RestErrorBody>('error', RestErrorBodySchema);
/** Validates error format A. @throws {@link SchemaError} */
export const parseRestErrorBody = restError.parse;
/** Validates error format A without throwing. */
export const safeParseRestErrorBody = restError.safeParse;

const adminError = parser<AdminErrorBody>('error', AdminErrorBodySchema);
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
