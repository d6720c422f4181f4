/**
 * Building, comparing and parsing snapshots, so that every producer derives `status`, `kind`,
 * `outcome` and `terminal` the same way.
 */
import type { SafeParseResult } from './errors.js';
import { snapshot as snapshotValidator } from './generated/snapshot.js';
import type { Job } from './schemas/bodies.js';
import type { Snapshot, SnapshotEta, SnapshotTrouble } from './schemas/snapshot.js';
import {
  type JobOutcome,
  type JobStatusKind,
  type JobStatusValue,
  jobOutcome,
  statusKind,
} from './status.js';
import { parser } from './validate.js';

/** What {@link makeSnapshot} needs; the derived fields are computed. */
export interface SnapshotInit {
  /** The deployment's name (`default` when only one is configured). */
  deployment: string;
  /** The job id being watched. */
  jobid: string;
  /** The last validated job body, `null` before the first. */
  job: Job | null;
  /** Epoch ms when watching began. */
  firstSeen: number;
  /** Epoch ms of the last answer (good or bad), `null` before any. */
  lastPolled: number | null;
  /** Epoch ms when what a user sees last changed. */
  lastChanged: number;
  /** Whether the source is in trouble. @default false */
  stale?: boolean;
  /** Why it is stale, when it is. */
  trouble?: SnapshotTrouble | undefined;
  /** When the job will likely end, when there is a basis. */
  eta?: SnapshotEta | undefined;
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
  if (init.eta) snapshot.eta = init.eta;
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

const snapshot = parser<Snapshot>('snapshot', snapshotValidator);
/** Validates a snapshot, for example one read from the daemon's event stream. @throws {@link SchemaError} */
export const parseSnapshot: (input: unknown) => Snapshot = snapshot.parse;
/** Validates a snapshot without throwing. */
export const safeParseSnapshot: (input: unknown) => SafeParseResult<Snapshot> = snapshot.safeParse;
