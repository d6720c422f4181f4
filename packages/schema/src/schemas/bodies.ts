/**
 * TypeBox schemas and types of the admin API's bodies. Every schema is built by calls marked
 * pure, and nothing that parses imports this module's values: a bundle that only parses
 * (with the precompiled validators of `parse.ts`) carries neither these objects nor typebox.
 */
import Type, { type Static } from 'typebox';
import type { JobStatusValue } from '../status.js';
import { ServiceSchema } from './service.js';
import { maybe, objectOr } from './shapes.js';

/** A job status: any string, with the known values named (see {@link JobStatus}). */
export const JobStatusSchema = /* @__PURE__ */ Type.Unsafe<JobStatusValue>(
  /* @__PURE__ */ Type.String({
    // Spelled out (a test checks it against JobStatus) so that building it calls nothing.
    description:
      'A job status, compared without regard to case. Known values: SUBMITTED, EXECUTING, CANCELLING, CANCELLED, FAILED, COMPLETED, UNAVAILABLE, TIMED OUT, ERROR; any other string is kept verbatim.',
  }),
);

/**
 * A job id as a body may carry it: 1–128 letters, digits, `-` and `_` (see `isJobId`).
 * Spelled out (a test checks it against `isJobId`) so that building it calls nothing.
 */
export const JobIdSchema = /* @__PURE__ */ Type.String({
  pattern: '^[A-Za-z0-9_-]{1,128}$',
  description: 'A job id: `j` and a dashed UUID, or `j` and 32 hex digits; any safe id is read.',
});

/** One stage of a backup job's result: `{"name":"Validation","state":"completed",…}`. */
export const BackupStageSchema = /* @__PURE__ */ Type.Object(
  {
    name: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    state: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    duration: /* @__PURE__ */ maybe(
      /* @__PURE__ */ Type.Union([/* @__PURE__ */ Type.String(), /* @__PURE__ */ Type.Number()]),
    ),
    lastUpdated: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Number()),
  },
  { additionalProperties: true },
);
/** One stage of a backup. */
export type BackupStage = Static<typeof BackupStageSchema>;

/** A message object, `{type, description}`. */
function messageObject() {
  return Type.Object(
    {
      type: maybe(Type.String()),
      description: maybe(Type.String()),
    },
    { additionalProperties: true },
  );
}

/**
 * One message of a job as a server sends it: a string (what Esri's Kubernetes admin CLI
 * prints), or an object `{type, description}` as geoprocessing jobs send them (`type` such
 * as `esriJobMessageTypeError`). Read them with `jobMessages`.
 */
export const JobMessageInputSchema = /* @__PURE__ */ objectOr<
  ReturnType<typeof messageObject>,
  string
>(/* @__PURE__ */ messageObject(), ['string']);
/** One message of a job, as sent. */
export type JobMessageInput = Static<typeof JobMessageInputSchema>;

/** A job's messages: strings, `{type, description}` objects, or a mix of both. */
export const JobMessagesSchema = /* @__PURE__ */ Type.Array(JobMessageInputSchema, {
  description:
    'Messages of a failed or cancelled job: strings, {type, description} objects, or a mix.',
});

/**
 * A job's `result` when it is an object: its shape depends on the operation. Edits carry
 * `service`, backups `stages`; a failure may carry `messages`, `error` or `status`, read by
 * `failureReason`. Unknown fields are kept.
 */
export const JobResultSchema = /* @__PURE__ */ Type.Object(
  {
    service: /* @__PURE__ */ maybe(ServiceSchema),
    stages: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Array(BackupStageSchema)),
  },
  { additionalProperties: true },
);
/** A job's result, when it is an object. */
export type JobResult = Static<typeof JobResultSchema>;

/**
 * The job resource, `GET <root>/jobs/<jobid>?f=json`. Exact about what watching needs
 * (`jobid` and `status`); every other field may be missing or `null`, and unknown fields are
 * kept. `endtime` is `0` until the job ends; `result` appears on COMPLETED and FAILED jobs,
 * an object, a string or `null` (a completed backup may have none).
 */
export const JobSchema = /* @__PURE__ */ Type.Object(
  {
    jobid: JobIdSchema,
    status: JobStatusSchema,
    starttime: /* @__PURE__ */ maybe(
      /* @__PURE__ */ Type.Number({ description: 'Epoch milliseconds when the job started.' }),
    ),
    endtime: /* @__PURE__ */ maybe(
      /* @__PURE__ */ Type.Number({
        description: 'Epoch milliseconds when the job ended; `0` until it has.',
      }),
    ),
    updatedtime: /* @__PURE__ */ maybe(
      /* @__PURE__ */ Type.Number({ description: 'Epoch milliseconds of the last update.' }),
    ),
    operationURI: /* @__PURE__ */ maybe(
      /* @__PURE__ */ Type.String({
        description:
          'The operation that made the job, with context: `/context/admin/services/Name.MapServer/edit`.',
      }),
    ),
    username: /* @__PURE__ */ maybe(
      /* @__PURE__ */ Type.String({
        description: 'Who submitted the job; `null` for anonymous work.',
      }),
    ),
    result: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ objectOr<typeof JobResultSchema, string | null>(JobResultSchema, [
        'string',
        'null',
      ]),
    ),
    messages: /* @__PURE__ */ maybe(JobMessagesSchema),
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
export const JobListSchema = /* @__PURE__ */ Type.Object(
  { jobs: /* @__PURE__ */ Type.Array(JobIdSchema) },
  { additionalProperties: true },
);
/** The jobs collection. */
export type JobList = Static<typeof JobListSchema>;

/**
 * The immediate answer of an operation run with `async=true`. Its spelling differs by
 * operation: `stop` answers `jobID` and `jobStatus`, backup `create` a lower-case `jobid`;
 * both carry `jobsUrl`. Read the id with {@link jobIdFromHandle}.
 */
export const JobHandleSchema = /* @__PURE__ */ Type.Object(
  {
    jobsUrl: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    jobid: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    jobID: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    jobStatus: /* @__PURE__ */ maybe(JobStatusSchema),
  },
  { additionalProperties: true },
);
/** A job handle. */
export type JobHandle = Static<typeof JobHandleSchema>;

/** `{"status": "success"}`: a synchronous operation's answer. */
export const AdminSuccessSchema = /* @__PURE__ */ Type.Object(
  { status: /* @__PURE__ */ Type.Literal('success') },
  { additionalProperties: true },
);
/** An admin success body. */
export type AdminSuccess = Static<typeof AdminSuccessSchema>;

/**
 * Error format A (REST, portal): `{"error": {"code": 498, "message": "Invalid token.", "details": []}}`.
 * The code may be missing. Read error bodies of every shape with `readErrorBody`.
 */
export const RestErrorBodySchema = /* @__PURE__ */ Type.Object(
  {
    error: /* @__PURE__ */ Type.Object(
      {
        code: /* @__PURE__ */ Type.Optional(
          /* @__PURE__ */ Type.Union([
            /* @__PURE__ */ Type.Number(),
            /* @__PURE__ */ Type.String(),
          ]),
        ),
        message: /* @__PURE__ */ Type.Optional(/* @__PURE__ */ Type.String()),
        details: /* @__PURE__ */ Type.Optional(
          /* @__PURE__ */ Type.Union([
            /* @__PURE__ */ Type.Array(/* @__PURE__ */ Type.String()),
            /* @__PURE__ */ Type.Null(),
            /* @__PURE__ */ Type.String(),
          ]),
        ),
        messageCode: /* @__PURE__ */ Type.Optional(/* @__PURE__ */ Type.String()),
      },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: true },
);
/** Error format A. */
export type RestErrorBody = Static<typeof RestErrorBodySchema>;

/** Error format B (admin operations): `{"status": "error", "messages": ["…"], "code": 499}`. */
export const AdminErrorBodySchema = /* @__PURE__ */ Type.Object(
  {
    status: /* @__PURE__ */ Type.Union([
      /* @__PURE__ */ Type.Literal('error'),
      /* @__PURE__ */ Type.Literal('failed'),
    ]),
    messages: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.Array(/* @__PURE__ */ Type.String()),
    ),
    code: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.Union([/* @__PURE__ */ Type.Number(), /* @__PURE__ */ Type.String()]),
    ),
  },
  { additionalProperties: true },
);
/** Error format B. */
export type AdminErrorBody = Static<typeof AdminErrorBodySchema>;

/** `generateToken`'s answer. `expires` is epoch ms, a numeric string on some older servers. */
export const TokenResponseSchema = /* @__PURE__ */ Type.Object(
  {
    token: /* @__PURE__ */ Type.String({ minLength: 1 }),
    expires: /* @__PURE__ */ Type.Union([
      /* @__PURE__ */ Type.Number(),
      /* @__PURE__ */ Type.String({ pattern: '^[0-9]+$' }),
    ]),
    ssl: /* @__PURE__ */ Type.Optional(/* @__PURE__ */ Type.Boolean()),
  },
  { additionalProperties: true },
);
/** A token response. */
export type TokenResponse = Static<typeof TokenResponseSchema>;

/** `GET <root>?f=json`: the site's resources and version. */
export const SiteInfoSchema = /* @__PURE__ */ Type.Object(
  {
    currentVersion: /* @__PURE__ */ maybe(
      /* @__PURE__ */ Type.Union([/* @__PURE__ */ Type.String(), /* @__PURE__ */ Type.Number()]),
    ),
    fullVersion: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    resources: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Array(/* @__PURE__ */ Type.String())),
  },
  { additionalProperties: true },
);
/** The admin root's site info. */
export type SiteInfo = Static<typeof SiteInfoSchema>;
