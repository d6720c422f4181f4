/**
 * The snapshot's TypeBox schema and types: what streams emit, the daemon sends and the
 * widget shows. Built by calls marked pure; nothing on the parse path imports it.
 */
import Type, { type Static } from 'typebox';
import { JobSchema, JobStatusSchema } from './bodies.js';
import { objectOr, orNull } from './shapes.js';

/** Why a snapshot is stale: the last trouble met while polling, retried in the background. */
export const SnapshotTroubleSchema = /* @__PURE__ */ Type.Object(
  {
    code: /* @__PURE__ */ Type.String({
      description:
        'The stable code of the error behind it (`TRANSPORT`, `RATE_LIMITED`, `UNAVAILABLE`, …).',
    }),
    message: /* @__PURE__ */ Type.String({ description: 'One line, free of secrets.' }),
    since: /* @__PURE__ */ Type.Number({
      description: 'Epoch ms of the first failed attempt in this run of trouble.',
    }),
    attempts: /* @__PURE__ */ Type.Number({ description: 'Failed attempts in a row.' }),
  },
  { additionalProperties: true },
);
/** Why a snapshot is stale. */
export type SnapshotTrouble = Static<typeof SnapshotTroubleSchema>;

/** One message of a job, normalised from whatever shape the server sent it in. */
export const JobMessageSchema = /* @__PURE__ */ Type.Object(
  {
    text: /* @__PURE__ */ Type.String({ description: 'The message, as one line.' }),
    severity: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.Enum(['error', 'warning', 'info'], {
        description:
          "From a message object's `type` (`esriJobMessageTypeError` → `error`); absent for a plain string.",
      }),
    ),
  },
  { additionalProperties: true },
);
/** One normalised message of a job. */
export type JobMessage = Static<typeof JobMessageSchema>;

/** A value in a body that was not in its documented shape: `{pointer, expected, found}`. */
export const SchemaWarningSchema = /* @__PURE__ */ Type.Object(
  {
    pointer: /* @__PURE__ */ Type.String({
      description: 'JSON pointer into the body as it came.',
    }),
    expected: /* @__PURE__ */ Type.String({ description: 'The documented shape, in words.' }),
    found: /* @__PURE__ */ Type.String({ description: 'What came, as a short excerpt.' }),
  },
  { additionalProperties: true },
);

/**
 * When the job will likely end, from how long earlier jobs of its kind took: only on a
 * snapshot of a running job whose kind has enough history (no basis, no `eta`). Times are
 * epoch ms on the watcher's clock, like `lastPolled`; a reader counts down to them.
 */
export const SnapshotEtaSchema = /* @__PURE__ */ Type.Object(
  {
    middle: /* @__PURE__ */ Type.Number({
      description: 'Epoch ms of the most likely end (the median, given how long it has run).',
    }),
    low: /* @__PURE__ */ Type.Number({ description: 'Epoch ms: start of the 80% interval.' }),
    high: /* @__PURE__ */ Type.Number({ description: 'Epoch ms: end of the 80% interval.' }),
    basis: /* @__PURE__ */ Type.Number({ description: 'Earlier jobs of its kind it rests on.' }),
    overdue: /* @__PURE__ */ Type.Boolean({
      description: 'It has run longer than 9 in 10 earlier jobs of its kind.',
    }),
  },
  { additionalProperties: true },
);
/** When a job will likely end. */
export type SnapshotEta = Static<typeof SnapshotEtaSchema>;

/** Where a job lives: `enterprise`, `server`, `gp` or `item` (see `JobSource`). */
export const JobSourceSchema = /* @__PURE__ */ Type.Unsafe<'enterprise' | 'server' | 'gp' | 'item'>(
  /* @__PURE__ */ Type.String({
    // A string, not an enum: one check in the validator every page that shows jobs carries,
    // and a reader of a newer daemon's snapshots keeps a source it does not know.
    description:
      'Where the job lives: enterprise (ArcGIS Enterprise on Kubernetes admin job), server (ArcGIS Server admin job), gp (geoprocessing job) or item (portal item job). Absent means enterprise.',
  }),
);

/** The step a job is at, where its source tells: ArcGIS Server `stepInfo`, GP `progress.message`. */
export const SnapshotStepSchema = /* @__PURE__ */ Type.Object(
  {
    text: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.String({ description: 'What the job is doing, in one line.' }),
    ),
    index: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.Number({ description: 'The current step, 1-based.' }),
    ),
    total: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.Number({ description: 'How many steps there are.' }),
    ),
  },
  { additionalProperties: true },
);
/** The step a job is at. */
export type SnapshotStep = Static<typeof SnapshotStepSchema>;

/** A result of a GP job: its parameter name and the absolute URL of its value. */
export const SnapshotResultSchema = /* @__PURE__ */ Type.Object(
  {
    name: /* @__PURE__ */ Type.String({ description: 'The result parameter name.' }),
    url: /* @__PURE__ */ Type.String({
      description: 'Absolute URL of the result parameter: `<task>/jobs/<jobid>/results/<name>`.',
    }),
  },
  { additionalProperties: true },
);
/** A result link of a GP job. */
export type SnapshotResult = Static<typeof SnapshotResultSchema>;

/**
 * The job body in a snapshot: the job schema, with `result` checked only as an object, a
 * string or `null`. The body was read by the tolerant parser where the snapshot was made;
 * its result's content (the service JSON, backup stages) is not checked again by every
 * reader of a snapshot — which keeps the snapshot's validator, carried by every page that
 * shows jobs, less than half the size.
 */
function snapshotJob() {
  const { properties, ...rest } = JobSchema;
  return Type.Unsafe<Static<typeof JobSchema>>({
    ...rest,
    properties: {
      ...properties,
      result: objectOr<ReturnType<typeof Type.Object>, string | null>(
        Type.Object({}, { additionalProperties: true }),
        ['string', 'null'],
        {
          description:
            "The job's result: an object (`service`, `stages`, …; its content as read where the snapshot was made), a string, or `null`.",
        },
      ),
    },
  });
}

/**
 * What jobwatch knows about one job at one moment: what every stream emits, every
 * daemon event carries and every widget shows.
 *
 * `status` and `job` are `null` only before the first body was read (for example when
 * the first poll met a network error: `stale` is then true). `job.result`'s content is
 * checked where the snapshot is made, not again by every reader of it (`parseSnapshot`).
 */
export const SnapshotSchema = /* @__PURE__ */ Type.Object(
  {
    version: /* @__PURE__ */ Type.Literal(1, { description: 'Schema version of this object.' }),
    deployment: /* @__PURE__ */ Type.String({
      description: "The deployment's name (`default` when only one is configured).",
    }),
    jobid: /* @__PURE__ */ Type.String({ description: 'The job id.' }),
    status: /* @__PURE__ */ Type.Union([JobStatusSchema, /* @__PURE__ */ Type.Null()], {
      description:
        'A known status in its canonical spelling (`COMPLETED` for `completed`), any other verbatim; `null` before the first body. `job.status` keeps what the server sent.',
    }),
    kind: /* @__PURE__ */ Type.Enum(['terminal', 'passing', 'unknown', 'pending'], {
      description: '`terminal`, `passing` or `unknown`; `pending` before the first body.',
    }),
    outcome: /* @__PURE__ */ Type.Enum(['succeeded', 'failed', 'cancelled', 'none'], {
      description: 'How the job ended, `none` until it has.',
    }),
    terminal: /* @__PURE__ */ Type.Boolean({
      description: 'Whether the job has ended: no further snapshot will follow.',
    }),
    job: /* @__PURE__ */ objectOr<ReturnType<typeof snapshotJob>, null>(
      /* @__PURE__ */ snapshotJob(),
      ['null'],
      { description: 'The last job body read (`null` before the first).' },
    ),
    firstSeen: /* @__PURE__ */ Type.Number({
      description: 'Epoch ms when jobwatch first watched this job.',
    }),
    lastPolled: /* @__PURE__ */ Type.Union(
      [/* @__PURE__ */ Type.Number(), /* @__PURE__ */ Type.Null()],
      {
        description: 'Epoch ms of the last answer (good or bad), `null` before any.',
      },
    ),
    lastChanged: /* @__PURE__ */ Type.Number({
      description: 'Epoch ms when what a user sees last changed (status or `updatedtime`).',
    }),
    stale: /* @__PURE__ */ Type.Boolean({
      description: 'True while the source is in trouble and this may be out of date.',
    }),
    trouble: /* @__PURE__ */ Type.Optional(SnapshotTroubleSchema),
    messages: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.Array(JobMessageSchema, {
        description: "The job's messages, normalised; absent when it has none.",
      }),
    ),
    reason: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.String({
        description:
          'Why a failed, cancelled or timed-out job ended, in one line: from its messages, else from its result; absent when the server said nothing.',
      }),
    ),
    warnings: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.Array(SchemaWarningSchema, {
        description:
          'What in the last body was not in its documented shape (kept or read as described); absent when nothing was.',
      }),
    ),
    eta: /* @__PURE__ */ Type.Optional(SnapshotEtaSchema),
    source: /* @__PURE__ */ Type.Optional(JobSourceSchema),
    url: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.String({
        description:
          "The job's URL (where its status is read), for sources other than enterprise; never with a token.",
      }),
    ),
    progress: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ orNull(
        /* @__PURE__ */ Type.Number({
          description:
            'How far the job is, 0–1, where its source tells (ArcGIS Server currentstep/totalsteps, GP progress.percentage/100); null where it does not. Absent in snapshots stored before it existed.',
        }),
      ),
    ),
    step: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.Unsafe<SnapshotStep>({
        type: 'object',
        description:
          'The step the job is at, where its source tells: {text?, index?, total?} (the last stepInfo line and currentstep/totalsteps of an ArcGIS Server job; a GP job progress message). Read where the snapshot was made; checked here as an object.',
      }),
    ),
    results: /* @__PURE__ */ Type.Optional(
      /* @__PURE__ */ Type.Unsafe<SnapshotResult[]>({
        type: 'array',
        items: { type: 'object' },
        description:
          "A succeeded GP job's results, each {name, url} (the absolute URL of the result parameter). Read where the snapshot was made; checked here as a list of objects.",
      }),
    ),
  },
  { additionalProperties: true },
);
/** A snapshot. */
export type Snapshot = Static<typeof SnapshotSchema>;
