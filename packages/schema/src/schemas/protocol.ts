/**
 * The TypeBox schemas of the daemon's HTTP API and event stream: what `jobwatch serve`
 * answers and accepts, and what `fromDaemon` reads. One definition for the server that
 * validates request bodies with their precompiled validators, the OpenAPI document the
 * daemon serves, and every client. Built by calls marked pure; nothing on the parse path
 * imports it.
 */
import Type, { type Static } from 'typebox';
import { MAX_JOB_ID_LENGTH } from '../jobid.js';
import { JobSourceSchema, SnapshotSchema } from './snapshot.js';

/** A job id as the API accepts it: 1–128 letters, digits, `-` and `_`. */
export const ApiJobIdSchema = /* @__PURE__ */ Type.String({
  minLength: 1,
  maxLength: MAX_JOB_ID_LENGTH,
  pattern: '^[A-Za-z0-9_-]+$',
  description: 'A job id: 1-128 letters, digits, "-" or "_".',
});

/** Where a watch stands. `watching` resumes after a restart; the others do not. */
export const WatchStateSchema = /* @__PURE__ */ Type.Union(
  [
    /* @__PURE__ */ Type.Literal('watching'),
    /* @__PURE__ */ Type.Literal('finished'),
    /* @__PURE__ */ Type.Literal('stopped'),
    /* @__PURE__ */ Type.Literal('failed'),
  ],
  { description: 'Where the watch stands: `watching`, `finished`, `stopped` or `failed`.' },
);
/** Where a watch stands. */
export type WatchState = Static<typeof WatchStateSchema>;

/** A stable code and a one-line message: why a watch failed, or why a request was refused. */
export const CodedMessageSchema = /* @__PURE__ */ Type.Object(
  {
    code: /* @__PURE__ */ Type.String({ description: 'A stable machine code.' }),
    message: /* @__PURE__ */ Type.String({ description: 'One line for people, free of secrets.' }),
  },
  { additionalProperties: true },
);

/** The public view of one watched job: `GET /api/jobs/{jobid}` and each entry of the list. */
export const JobViewSchema = /* @__PURE__ */ Type.Object(
  {
    deployment: /* @__PURE__ */ Type.String({ description: "The deployment's name." }),
    jobid: /* @__PURE__ */ Type.String({ description: 'The job id.' }),
    state: WatchStateSchema,
    addedAt: /* @__PURE__ */ Type.Number({ description: 'Epoch ms when watching began.' }),
    endedAt: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.Number({ description: 'Epoch ms when the watch ended.' }),
    ),
    error: /* @__PURE__ */ Type.Optional(CodedMessageSchema),
    source: /* @__PURE__ */ Type.Optional(JobSourceSchema),
    url: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.String({
        description:
          "The job's URL, for jobs of other sources than ArcGIS Enterprise admin jobs (absent for those).",
      }),
    ),
    snapshot: /* @__PURE__ */ Type.Union([SnapshotSchema, /* @__PURE__ */ Type.Null()], {
      description: 'The last snapshot, `null` before the first.',
    }),
  },
  { additionalProperties: true },
);
/** The public view of one watched job. */
export type JobView = Static<typeof JobViewSchema>;

/** A page of `GET /api/jobs`. */
export const JobPageSchema = /* @__PURE__ */ Type.Object(
  {
    jobs: /* @__PURE__ */ Type.Array(JobViewSchema),
    next: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.String({
        description: 'Where the next page starts (`?after=`); absent on the last page.',
      }),
    ),
  },
  { additionalProperties: true },
);
/** A page of `GET /api/jobs`. */
export type JobPage = Static<typeof JobPageSchema>;

/** The body of `POST /api/jobs`: which job to watch, and in which deployment. */
export const WatchRequestSchema = /* @__PURE__ */ Type.Object(
  {
    jobid: ApiJobIdSchema,
    deployment: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.String({
        description: 'The deployment; optional when the daemon has only one.',
      }),
    ),
  },
  { additionalProperties: true },
);
/** The body of `POST /api/jobs`. */
export type WatchRequest = Static<typeof WatchRequestSchema>;

const JobUrlText = /* @__PURE__ */ Type.String({
  minLength: 1,
  maxLength: 2048,
  description: 'An absolute http(s) URL, without credentials, query or fragment.',
});
const RefPart = /* @__PURE__ */ Type.String({ minLength: 1, maxLength: 256 });

/**
 * A job reference of any source (`JobRef`): a discriminated union on `source`. The daemon
 * reads it back through `parseJobRef`, so a hostile id or path part is refused before any
 * request, as a hostile URL is.
 */
export const JobRefSchema = /* @__PURE__ */ Type.Union(
  [
    /* @__PURE__ */ Type.Object(
      {
        source: /* @__PURE__ */ Type.Literal('enterprise'),
        adminUrl: JobUrlText,
        jobid: ApiJobIdSchema,
      },
      { additionalProperties: false },
    ),
    /* @__PURE__ */ Type.Object(
      {
        source: /* @__PURE__ */ Type.Literal('server'),
        adminUrl: JobUrlText,
        jobid: ApiJobIdSchema,
      },
      { additionalProperties: false },
    ),
    /* @__PURE__ */ Type.Object(
      {
        source: /* @__PURE__ */ Type.Literal('gp'),
        taskUrl: JobUrlText,
        jobid: ApiJobIdSchema,
      },
      { additionalProperties: false },
    ),
    /* @__PURE__ */ Type.Object(
      {
        source: /* @__PURE__ */ Type.Literal('item'),
        portalUrl: JobUrlText,
        username: RefPart,
        itemId: RefPart,
        jobType: RefPart,
        jobid: ApiJobIdSchema,
      },
      { additionalProperties: false },
    ),
  ],
  {
    description:
      'A job of any source: enterprise and server `{adminUrl, jobid}`, gp `{taskUrl, jobid}`, item `{portalUrl, username, itemId, jobType, jobid}`.',
  },
);

const deploymentMember = /* @__PURE__ */ Type.Optional(
  /* @__PURE__ */ Type.String({
    description:
      'The deployment whose credentials read the job; optional: by default the one configured for its host.',
  }),
);

/** The body of `POST /api/jobs` that names a job by its URL, of any source. */
export const WatchUrlRequestSchema = /* @__PURE__ */ Type.Object(
  {
    url: /* @__PURE__ */ Type.String({
      minLength: 1,
      maxLength: 2048,
      description:
        'A job URL of any source: `…/admin/jobs/<id>`, `…/admin/system/jobs/<id>`, `…/GPServer/<task>/jobs/<id>`, or `…/items/<itemId>/status?jobType=…&jobId=…`.',
    }),
    deployment: deploymentMember,
  },
  { additionalProperties: true },
);

/** The body of `POST /api/jobs` that names a job by its reference, of any source. */
export const WatchRefRequestSchema = /* @__PURE__ */ Type.Object(
  { ref: JobRefSchema, deployment: deploymentMember },
  { additionalProperties: true },
);

/**
 * The bodies of `POST /api/jobs` that name a job of any source: by URL or by reference. (The
 * job id form is {@link WatchRequestSchema}.)
 */
export const WatchJobRequestSchema = /* @__PURE__ */ Type.Union(
  [WatchUrlRequestSchema, WatchRefRequestSchema],
  { description: 'A job of any source, by `url` or by `ref`.' },
);
/** The body of `POST /api/jobs` that names a job of any source by URL or reference. */
export type WatchJobRequest = Static<typeof WatchJobRequestSchema>;

/** The answer of `POST /api/tickets`: a short-lived ticket for `GET /api/events?ticket=`. */
export const TicketSchema = /* @__PURE__ */ Type.Object(
  {
    ticket: /* @__PURE__ */ Type.String({ description: 'Send as `?ticket=` to the event stream.' }),
    expiresAt: /* @__PURE__ */ Type.Number({ description: 'Epoch ms when it stops working.' }),
  },
  { additionalProperties: true },
);
/** The answer of `POST /api/tickets`. */
export type Ticket = Static<typeof TicketSchema>;

/** The answer of `GET /api/deployments`. */
export const DeploymentListSchema = /* @__PURE__ */ Type.Object(
  {
    deployments: /* @__PURE__ */ Type.Array(
      /* @__PURE__ */ Type.Object(
        { name: /* @__PURE__ */ Type.String() },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true },
);
/** The answer of `GET /api/deployments`. */
export type DeploymentList = Static<typeof DeploymentListSchema>;

/** Every error answer of the API: `{ "error": { "code", "message" } }`. */
export const ApiErrorBodySchema = /* @__PURE__ */ Type.Object(
  { error: CodedMessageSchema },
  { additionalProperties: true },
);
/** Every error answer of the API. */
export type ApiErrorBody = Static<typeof ApiErrorBodySchema>;

/** The answer of `/livez` and `/readyz`. */
export const ProbeSchema = /* @__PURE__ */ Type.Object(
  {
    status: /* @__PURE__ */ Type.String({ description: '`ok`, `ready` or `not ready`.' }),
    reason: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.String({
        description:
          'Why the daemon is not ready, when it knows (its shared store is unreachable, say).',
      }),
    ),
  },
  { additionalProperties: true },
);

/** The data of the event stream's `ready` event. */
export const DaemonReadyDataSchema = /* @__PURE__ */ Type.Object(
  {
    heartbeatMs: /* @__PURE__ */ Type.Number({ description: 'How often a `ping` comes, in ms.' }),
    unwatched: /* @__PURE__ */ Type.Array(/* @__PURE__ */ Type.String(), {
      description: 'Requested job ids the daemon does not watch.',
    }),
  },
  { additionalProperties: true },
);
/** The data of the stream's `ready` event ({@link DaemonReadyDataSchema}, read-only). */
export interface DaemonReadyData {
  /** How often the daemon sends a `ping`, in ms. */
  readonly heartbeatMs: number;
  /**
   * The job ids the stream was asked for (`?jobid=`) that the daemon does not watch: it has
   * never been asked to, has forgotten them, or could not watch them and has nothing to show.
   * Such a job's snapshots arrive once the daemon does watch it (for example after discovery
   * finds it); empty without a `jobid` filter.
   */
  readonly unwatched: readonly string[];
}

/** The data of the event stream's `watch_failed` event (and of the webhook of that name). */
export const WatchFailureSchema = /* @__PURE__ */ Type.Object(
  {
    deployment: /* @__PURE__ */ Type.String(),
    jobid: /* @__PURE__ */ Type.String(),
    error: CodedMessageSchema,
    snapshot: /* @__PURE__ */ Type.Union([SnapshotSchema, /* @__PURE__ */ Type.Null()]),
    failedAt: /* @__PURE__ */ Type.Number({ description: 'Epoch ms of the failure.' }),
  },
  { additionalProperties: true },
);
/** A watch that could not go on, as the event stream and webhooks carry it. */
export type WatchFailure = Static<typeof WatchFailureSchema>;

/** The data of the event stream's `end` event. */
export const DaemonEndDataSchema = /* @__PURE__ */ Type.Object(
  { reason: /* @__PURE__ */ Type.String({ description: '`shutdown`.' }) },
  { additionalProperties: true },
);

/** The data of `resync` and `ping`: an empty object. */
export const EmptyDataSchema = /* @__PURE__ */ Type.Object({}, { additionalProperties: true });
