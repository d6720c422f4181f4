/**
 * Building, comparing and parsing snapshots, so that every producer derives `status`, `kind`,
 * `outcome` and `terminal` the same way.
 */
import type { SafeParseResult, SchemaWarning } from './errors.js';
import { snapshot as snapshotValidator } from './generated/snapshot.js';
import { failureReason, jobMessages } from './messages.js';
import type { Job } from './schemas/bodies.js';
import type { Snapshot, SnapshotEta, SnapshotTrouble } from './schemas/snapshot.js';
import { type JobRef, jobRefUrl } from './sources/ref.js';
import {
  sourceProgress,
  sourceReason,
  sourceResults,
  sourceStatus,
  sourceStep,
} from './sources/status.js';
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
  /** What in the last body was not in its documented shape (from `safeParseJob`). */
  warnings?: readonly SchemaWarning[] | undefined;
  /** When the job will likely end, when there is a basis. */
  eta?: SnapshotEta | undefined;
  /**
   * The job's reference, for a job of any source: its `source` decides what its status means
   * and where progress, step and results come from; without one (or for an `enterprise`
   * reference) the job is an admin job, and the snapshot has no `source` or `url`.
   */
  ref?: JobRef | undefined;
}

/**
 * Builds a snapshot, deriving `status` (a known one in its canonical spelling), `kind`,
 * `outcome`, `terminal`, `messages` and `reason` from the job so that every producer agrees
 * on them. `messages`, `reason` and `warnings` are set only when there is something to say.
 */
export function makeSnapshot(init: SnapshotInit): Snapshot {
  const job = init.job;
  const ref = init.ref;
  const source = ref?.source ?? 'enterprise';
  const status: JobStatusValue | null = job ? sourceStatus(source, job) : null;
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
    progress: job ? sourceProgress(source, job) : null,
  };
  if (ref && source !== 'enterprise') {
    snapshot.source = source;
    snapshot.url = jobRefUrl(ref);
  }
  if (init.trouble) snapshot.trouble = init.trouble;
  if (job) {
    if (job.messages != null) {
      const messages = jobMessages(job);
      if (messages.length > 0) snapshot.messages = messages;
    }
    if (outcome === 'failed' || outcome === 'cancelled') {
      const reason = source === 'enterprise' ? failureReason(job) : sourceReason(source, job);
      if (reason !== undefined) snapshot.reason = reason;
    }
    if (source !== 'enterprise') {
      const step = sourceStep(source, job);
      if (step) snapshot.step = step;
      const results = ref ? sourceResults(ref, job) : undefined;
      if (results) snapshot.results = results;
    }
  }
  if (init.warnings && init.warnings.length > 0) snapshot.warnings = [...init.warnings];
  if (init.eta) snapshot.eta = init.eta;
  return snapshot;
}

/**
 * Whether two snapshots differ in what a user would notice: status, the job's
 * `updatedtime`, staleness, whether a body is known, progress, or the step. Polls that change
 * nothing else are not worth an emission.
 */
export function visiblyDiffers(a: Snapshot | undefined, b: Snapshot): boolean {
  if (!a) return true;
  return (
    a.status !== b.status ||
    a.stale !== b.stale ||
    (a.job === null) !== (b.job === null) ||
    a.job?.updatedtime !== b.job?.updatedtime ||
    a.job?.endtime !== b.job?.endtime ||
    (a.progress ?? null) !== (b.progress ?? null) ||
    a.step?.text !== b.step?.text ||
    a.step?.index !== b.step?.index
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
