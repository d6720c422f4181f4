/**
 * TypeBox schemas and types of the job bodies of the sister job sources: ArcGIS Server admin
 * jobs, geoprocessing (GP) service jobs and portal item jobs. Like the admin job's, they are
 * exact only about what watching needs (the job asked for, its status) and tolerant about the
 * rest; unknown fields are kept. Built by calls marked pure; nothing on the parse path
 * imports this module's values.
 */
import Type, { type Static } from 'typebox';
import { JobIdSchema, JobMessagesSchema } from './bodies.js';
import { maybe, objectOr } from './shapes.js';

/**
 * The answer of the operation an ArcGIS Server admin job ran, `operationResponse`:
 * `{"status": "success"}`, or `{"status": "error", "messages": [...], "detail": {...}}`.
 * Esri's own example shows a `COMPLETED` job whose operation answered an error: the outcome
 * is here, not in the job's `status`.
 */
export const ServerOperationResponseSchema = /* @__PURE__ */ Type.Object(
  {
    status: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    messages: /* @__PURE__ */ maybe(JobMessagesSchema),
    code: /* @__PURE__ */ maybe(
      /* @__PURE__ */ Type.Union([/* @__PURE__ */ Type.Number(), /* @__PURE__ */ Type.String()]),
    ),
  },
  { additionalProperties: true },
);
/** An ArcGIS Server admin job's `operationResponse`, when it is an object. */
export type ServerOperationResponse = Static<typeof ServerOperationResponseSchema>;

/**
 * An ArcGIS Server (not Kubernetes) admin job, `GET <server>/admin/system/jobs/<jobid>?f=json`
 * (since 10.1): `jobid`, `status` in the admin vocabulary, `totalsteps`, `currentstep`,
 * `stepInfo` (one line per step done or running) and `operationResponse`. No timestamps.
 */
export const ServerJobSchema = /* @__PURE__ */ Type.Object(
  {
    jobid: JobIdSchema,
    status: /* @__PURE__ */ Type.String({
      description:
        'The admin vocabulary (SUBMITTED, EXECUTING, COMPLETED, FAILED, …); a COMPLETED job whose operationResponse.status is error has failed.',
    }),
    totalsteps: /* @__PURE__ */ maybe(
      /* @__PURE__ */ Type.Number({ description: 'Steps the operation takes.' }),
    ),
    currentstep: /* @__PURE__ */ maybe(
      /* @__PURE__ */ Type.Number({ description: 'The step running now (1-based).' }),
    ),
    stepInfo: /* @__PURE__ */ maybe(
      /* @__PURE__ */ Type.Array(/* @__PURE__ */ Type.String(), {
        description: 'One line per step started, the last one the current step.',
      }),
    ),
    operationResponse: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ objectOr<typeof ServerOperationResponseSchema, string | null>(
        ServerOperationResponseSchema,
        ['string', 'null'],
      ),
    ),
    messages: /* @__PURE__ */ maybe(JobMessagesSchema),
  },
  {
    additionalProperties: true,
    description:
      'An ArcGIS Server admin job, GET <server>/admin/system/jobs/<jobid>?f=json. Unknown fields are kept.',
  },
);
/** An ArcGIS Server admin job body. */
export type ServerJob = Static<typeof ServerJobSchema>;

/** A GP parameter link, `{"paramUrl": "results/Output"}` (relative to the job URL). */
export const GpParamLinkSchema = /* @__PURE__ */ Type.Object(
  {
    paramUrl: /* @__PURE__ */ maybe(
      /* @__PURE__ */ Type.String({
        description: 'The parameter resource, relative to the job URL: `results/<name>`.',
      }),
    ),
  },
  { additionalProperties: true },
);
/** A GP parameter link. */
export type GpParamLink = Static<typeof GpParamLinkSchema>;

/** `results` or `inputs` of a GP job: `{"<param>": {"paramUrl": "…"}}`. */
export const GpParamLinksSchema = /* @__PURE__ */ Type.Object(
  {},
  { additionalProperties: GpParamLinkSchema },
);

/**
 * A GP job's `progress` (ArcGIS Server 10.8.1+, services published from ArcGIS Pro 2.6+),
 * only while it is `esriJobExecuting`: `{type, message, percentage}` in arcgis-rest-js's types.
 */
export const GpProgressSchema = /* @__PURE__ */ Type.Object(
  {
    type: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    message: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    percentage: /* @__PURE__ */ maybe(
      /* @__PURE__ */ Type.Number({ description: 'Percent done, 0–100.' }),
    ),
  },
  { additionalProperties: true },
);
/** A GP job's progress. */
export type GpProgress = Static<typeof GpProgressSchema>;

/**
 * A geoprocessing job, `GET <task>/jobs/<jobId>?f=json` (also the answer of `submitJob` and
 * of `cancel`): `jobId`, `jobStatus` (`esriJobNew` … `esriJobSucceeded`, `esriJobDeleted`),
 * `messages` of `{type, description}`, `results` and `inputs` as `{name: {paramUrl}}`, and
 * `progress` while executing. No timestamps.
 */
export const GpJobSchema = /* @__PURE__ */ Type.Object(
  {
    jobId: JobIdSchema,
    jobStatus: /* @__PURE__ */ Type.String({
      description:
        'esriJobNew, esriJobWaiting, esriJobSubmitted, esriJobExecuting, esriJobCancelling, esriJobCancelled, esriJobFailed, esriJobTimedOut, esriJobSucceeded, esriJobDeleting, esriJobDeleted; any other string is kept verbatim.',
    }),
    messages: /* @__PURE__ */ maybe(JobMessagesSchema),
    results: /* @__PURE__ */ maybe(GpParamLinksSchema),
    inputs: /* @__PURE__ */ maybe(GpParamLinksSchema),
    progress: /* @__PURE__ */ maybe(GpProgressSchema),
  },
  {
    additionalProperties: true,
    description:
      'A geoprocessing service job, GET <task>/jobs/<jobId>?f=json. Unknown fields are kept.',
  },
);
/** A GP job body. */
export type GpJob = Static<typeof GpJobSchema>;

/**
 * A portal or ArcGIS Online item job's status,
 * `GET <portal>/sharing/rest/content/users/<user>/items/<itemId>/status?jobType=…&jobId=…&f=json`:
 * `status` `partial`, `processing`, `failed` or `completed` (a `failed` here is the job's
 * outcome, not an error body), `statusMessage`, `itemId`.
 */
export const ItemStatusSchema = /* @__PURE__ */ Type.Object(
  {
    status: /* @__PURE__ */ Type.String({
      description: 'partial, processing, failed or completed; any other string is kept verbatim.',
    }),
    statusMessage: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    itemId: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    jobId: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
  },
  {
    additionalProperties: true,
    description:
      "A portal item job's status, GET <portal>/sharing/rest/content/users/<user>/items/<itemId>/status?jobType=<type>&jobId=<id>&f=json. Unknown fields are kept.",
  },
);
/** A portal item job's status body. */
export type ItemStatus = Static<typeof ItemStatusSchema>;
