import Type, { type Static } from 'typebox';
import { type Job, JobSchema, JobStatusSchema } from './bodies.js';
import { type JobOutcome, type JobStatusKind, type JobStatusValue, jobOutcome, statusKind } from './status.js';
import { parser } from './validate.js';

/** Why a snapshot is stale: the last trouble met while polling, retried in the background. */
export const SnapshotTroubleSchema = Type.Object(
  {
    /** The stable code of the error behind it (`TRANSPORT`, `RATE_LIMITED`, `UNAVAILABLE`, …). */
    code: Type.String(),
    /** One line, free of secrets. */
    message: Type.String(),
    /** Epoch ms of the first failed attempt in this run of trouble. */
    since: Type.Number(),
    /** Failed attempts in a row. */
    attempts: Type.Number(),
  },
  { additionalProperties: true },
);
/** Why a snapshot is stale. */
export type SnapshotTrouble = Static<typeof SnapshotTroubleSchema>;

/**
 * What jobwatch knows about one job at one moment: what every stream emits, every
 * daemon event carries and every widget shows.
 *
 * `status` and `job` are `null` only before the first body was read (for example when
 * the first poll met a network error: `stale` is then true).
 */
export const SnapshotSchema = Type.Object(
  {
    /** Schema version of this object. */
    version: Type.Literal(1),
    /** The deployment's name (`default` when only one is configured). */
    deployment: Type.String(),
    jobid: Type.String(),
    status: Type.Union([JobStatusSchema, Type.Null()]),
    /** `terminal`, `passing` or `unknown`; `pending` before the first body. */
    kind: Type.Union([Type.Literal('terminal'), Type.Literal('passing'), Type.Literal('unknown'), Type.Literal('pending')]),
    /** How the job ended, `none` until it has. */
    outcome: Type.Union([Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled'), Type.Literal('none')]),
    /** Whether the job has ended: no further snapshot will follow. */
    terminal: Type.Boolean(),
    /** The last validated job body. */
    job: Type.Union([JobSchema, Type.Null()]),
    /** Epoch ms when jobwatch first watched this job. */
    firstSeen: Type.Number(),
    /** Epoch ms of the last answer (good or bad), `null` before any. */
    lastPolled: Type.Union([Type.Number(), Type.Null()]),
    /** Epoch ms when what a user sees last changed (status or `updatedtime`). */
    lastChanged: Type.Number(),
    /** True while the source is in trouble and this may be out of date. */
    stale: Type.Boolean(),
    trouble: Type.Optional(SnapshotTroubleSchema),
  },
  { additionalProperties: true },
);
/** A snapshot. */
export type Snapshot = Static<typeof SnapshotSchema>;

/** What {@link makeSnapshot} needs; the derived fields are computed. */
export interface SnapshotInit {
  deployment: string;
  jobid: string;
  job: Job | null;
  firstSeen: number;
  lastPolled: number | null;
  lastChanged: number;
  stale?: boolean;
  trouble?: SnapshotTrouble | undefined;
}

/**
 * Builds a snapshot, deriving `status`, `kind`, `outcome` and `terminal` from the job so
 * that every producer agrees on them.
 */
export function makeSnapshot(init: SnapshotInit): Snapshot {
  const status: JobStatusValue | null = init.job ? init.job.status : null;
  const kind: JobStatusKind | 'pending' = status === null ? 'pending' : statusKind(status);
  const outcome: JobOutcome = status === null ? 'none' : jobOutcome(status);
  const snapshot: Snapshot = {
    version: 1,
    deployment: init.deployment,
    jobid: init.jobid,
    status,
    kind,
    outcome,
    terminal: kind === 'terminal',
    job: init.job,
    firstSeen: init.firstSeen,
    lastPolled: init.lastPolled,
    lastChanged: init.lastChanged,
    stale: init.stale ?? false,
  };
  if (init.trouble) snapshot.trouble = init.trouble;
  return snapshot;
}

/**
 * Whether two snapshots differ in what a user would notice: status, the job's
 * `updatedtime`, staleness, or whether a body is known. Polls that change nothing else
 * are not worth an emission.
 */
export function visiblyDiffers(a: Snapshot | undefined, b: Snapshot): boolean {
  if (!a) return true;
  return (
    a.status !== b.status ||
    a.stale !== b.stale ||
    (a.job === null) !== (b.job === null) ||
    a.job?.updatedtime !== b.job?.updatedtime ||
    a.job?.endtime !== b.job?.endtime
  );
}

const snapshot = parser<Snapshot>('snapshot', SnapshotSchema);
/** Validates a snapshot, for example one read from the daemon's event stream. @throws {@link SchemaError} */
export const parseSnapshot = snapshot.parse;
/** Validates a snapshot without throwing. */
export const safeParseSnapshot = snapshot.safeParse;
