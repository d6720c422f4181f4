/**
 * The snapshot's TypeBox schema and types: what streams emit, the daemon sends and the
 * widget shows. Built by calls marked pure; nothing on the parse path imports it.
 */
import Type, { type Static } from 'typebox';
import { JobSchema, JobStatusSchema } from './bodies.js';
import { objectOr } from './shapes.js';

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
      /* @__PURE__ */ Type.Union(
        [
          /* @__PURE__ */ Type.Literal('error'),
          /* @__PURE__ */ Type.Literal('warning'),
          /* @__PURE__ */ Type.Literal('info'),
        ],
        {
          description:
            "From a message object's `type` (`esriJobMessageTypeError` → `error`); absent for a plain string.",
        },
      ),
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
 * What jobwatch knows about one job at one moment: what every stream emits, every
 * daemon event carries and every widget shows.
 *
 * `status` and `job` are `null` only before the first body was read (for example when
 * the first poll met a network error: `stale` is then true).
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
    kind: /* @__PURE__ */ Type.Union(
      [
        /* @__PURE__ */ Type.Literal('terminal'),
        /* @__PURE__ */ Type.Literal('passing'),
        /* @__PURE__ */ Type.Literal('unknown'),
        /* @__PURE__ */ Type.Literal('pending'),
      ],
      { description: '`terminal`, `passing` or `unknown`; `pending` before the first body.' },
    ),
    outcome: /* @__PURE__ */ Type.Union(
      [
        /* @__PURE__ */ Type.Literal('succeeded'),
        /* @__PURE__ */ Type.Literal('failed'),
        /* @__PURE__ */ Type.Literal('cancelled'),
        /* @__PURE__ */ Type.Literal('none'),
      ],
      { description: 'How the job ended, `none` until it has.' },
    ),
    terminal: /* @__PURE__ */ Type.Boolean({
      description: 'Whether the job has ended: no further snapshot will follow.',
    }),
    job: /* @__PURE__ */ objectOr<typeof JobSchema, null>(JobSchema, ['null'], {
      description: 'The last job body read (`null` before the first).',
    }),
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
  },
  { additionalProperties: true },
);
/** A snapshot. */
export type Snapshot = Static<typeof SnapshotSchema>;
