/**
 * Building, comparing and parsing snapshots, so that every producer derives `status`, `kind`,
 * `outcome` and `terminal` the same way.
 */
import type { SafeParseResult, SchemaWarning } from './errors.js';
import { snapshot as snapshotValidator } from './generated/snapshot.js';
import { failureReason, jobMessages } from './messages.js';
import type { Job } from './schemas/bodies.js';
import type { Snapshot, SnapshotEta, SnapshotTrouble } from './schemas/snapshot.js';
import {
  canonicalStatus,
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
  /** What in the last body was not in its documented shape (from `safeParseJob`). */
  warnings?: readonly SchemaWarning[] | undefined;
  /** When the job will likely end, when there is a basis. */
  eta?: SnapshotEta | undefined;
}

/**
 * Builds a snapshot, deriving `status` (a known one in its canonical spelling), `kind`,
 * `outcome`, `terminal`, `messages` and `reason` from the job so that every producer agrees
 * on them. `messages`, `reason` and `warnings` are set only when there is something to say.
 */
export function makeSnapshot(init: SnapshotInit): Snapshot {
  const job = init.job;
  const status: JobStatusValue | null = job ? (canonicalStatus(job.status) ?? job.status) : null;
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
  if (job) {
    if (job.messages != null) {
      const messages = jobMessages(job);
      if (messages.length > 0) snapshot.messages = messages;
    }
    if (outcome === 'failed' || outcome === 'cancelled') {
      const reason = failureReason(job);
      if (reason !== undefined) snapshot.reason = reason;
    }
  }
  if (init.warnings && init.warnings.length > 0) snapshot.warnings = [...init.warnings];
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
/**
 * Validates a snapshot, for example one read from the daemon's event stream: its own fields
 * and the job body's, with `job.result` checked as an object, a string or `null` (its content
 * was read where the snapshot was made). @throws {@link SchemaError}
 */
export const parseSnapshot: (input: unknown) => Snapshot = snapshot.parse;
/** Validates a snapshot without throwing. */
export const safeParseSnapshot: (input: unknown) => SafeParseResult<Snapshot> = snapshot.safeParse;
