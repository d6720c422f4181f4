/**
 * The snapshot's TypeBox schema and types: what streams emit, the daemon sends and the
 * widget shows. Built by calls marked pure; nothing on the parse path imports it.
 */
import Type, { type Static } from 'typebox';
import { JobSchema, JobStatusSchema } from './bodies.js';

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
    status: /* @__PURE__ */ Type.Union([JobStatusSchema, /* @__PURE__ */ Type.Null()]),
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
    job: /* @__PURE__ */ Type.Union([JobSchema, /* @__PURE__ */ Type.Null()], {
      description: 'The last validated job body.',
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
    eta: /* @__PURE__ */ Type.Optional(SnapshotEtaSchema),
  },
  { additionalProperties: true },
);
/** A snapshot. */
export type Snapshot = Static<typeof SnapshotSchema>;
