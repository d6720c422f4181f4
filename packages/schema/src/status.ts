/**
 * Job statuses and what they mean. This file is the one place in jobwatch that decides
 * whether a status is an end, how it ended, and whether it is known at all. Statuses are
 * compared without regard to case: `completed`, `Completed` and `COMPLETED` are one status.
 */

/**
 * The job statuses the ArcGIS Enterprise Administrator API is known to return, in their
 * canonical (upper-case) spelling.
 *
 * `TIMED OUT` (with a space) is not in the job resource's documentation but Esri's own
 * backup tool treats it as a terminal failure, so jobwatch does too. `ERROR` is not in it
 * either, but ArcGIS API for Python stops polling on it as on `FAILED`: a terminal failure.
 *
 * @example
 * ```ts
 * if (canonicalStatus(job.status) === JobStatus.FAILED) show(snapshot.reason);
 * ```
 */
export const JobStatus = {
  SUBMITTED: 'SUBMITTED',
  EXECUTING: 'EXECUTING',
  CANCELLING: 'CANCELLING',
  CANCELLED: 'CANCELLED',
  FAILED: 'FAILED',
  COMPLETED: 'COMPLETED',
  UNAVAILABLE: 'UNAVAILABLE',
  TIMED_OUT: 'TIMED OUT',
  ERROR: 'ERROR',
} as const;

/** One of the statuses in {@link JobStatus}. */
export type KnownJobStatus = (typeof JobStatus)[keyof typeof JobStatus];

/**
 * A job status as read from a server: a known value, or any other string kept verbatim
 * (a newer server may add statuses; jobwatch never crashes on one).
 */
export type JobStatusValue = KnownJobStatus | (string & {});

/** Every known status, in the order a job usually meets them. */
export const KNOWN_JOB_STATUSES: readonly KnownJobStatus[] = Object.freeze(
  Object.values(JobStatus),
);

/** The statuses after which a job never changes again. */
export const TERMINAL_JOB_STATUSES: readonly KnownJobStatus[] = Object.freeze([
  JobStatus.COMPLETED,
  JobStatus.FAILED,
  JobStatus.TIMED_OUT,
  JobStatus.ERROR,
  JobStatus.CANCELLED,
]);

const canonical = new Map<string, KnownJobStatus>(KNOWN_JOB_STATUSES.map((s) => [s, s]));
const terminal = new Set<string>(TERMINAL_JOB_STATUSES);

/**
 * How a job ended: `succeeded` (COMPLETED), `failed` (FAILED, TIMED OUT, ERROR), `cancelled`
 * (CANCELLED), or `none` while it has not ended (or its status is unknown).
 */
export type JobOutcome = 'succeeded' | 'failed' | 'cancelled' | 'none';

/**
 * Where a status sits: `terminal` (an end), `passing` (keep watching: SUBMITTED,
 * EXECUTING, CANCELLING, UNAVAILABLE) or `unknown` (a status jobwatch has never seen).
 */
export type JobStatusKind = 'terminal' | 'passing' | 'unknown';

/**
 * The canonical spelling of a known status, whatever its case (`completed` → `COMPLETED`,
 * `Timed Out` → `TIMED OUT`), or `undefined` for a status jobwatch does not know. Nothing
 * else is forgiven: ` COMPLETED` (with a space) and `TIMED_OUT` are unknown.
 */
export function canonicalStatus(status: string): KnownJobStatus | undefined {
  const hit = canonical.get(status);
  if (hit !== undefined || typeof status !== 'string') return hit;
  return canonical.get(status.toUpperCase());
}

/** Whether `status` is one of the documented (or observed) statuses, in any case. */
export function isKnownJobStatus(status: string): boolean {
  return canonicalStatus(status) !== undefined;
}

/**
 * Whether a job with this status has ended: COMPLETED, FAILED, TIMED OUT, ERROR or
 * CANCELLED, in any case.
 */
export function isTerminalStatus(status: string): boolean {
  const known = canonicalStatus(status);
  return known !== undefined && terminal.has(known);
}

/**
 * Whether `status` is a passing condition: SUBMITTED, EXECUTING, CANCELLING or
 * UNAVAILABLE ("the status cannot be had right now" is not an end), in any case.
 */
export function isPassingStatus(status: string): boolean {
  const known = canonicalStatus(status);
  return known !== undefined && !terminal.has(known);
}

/**
 * The kind of a status.
 *
 * Unknown statuses are an explicit policy, not an accident: they are kept verbatim,
 * never treated as an end, and surfaced so a person can see them (a parse warning at
 * `/status`, `kind: 'unknown'` on the snapshot). Streams keep watching a job whose status is
 * unknown (see `@jobwatch/rx`'s `unknownStatus` option).
 */
export function statusKind(status: string): JobStatusKind {
  const known = canonicalStatus(status);
  if (known === undefined) return 'unknown';
  return terminal.has(known) ? 'terminal' : 'passing';
}

/** How a job with this status ended; `none` while it runs or when the status is unknown. */
export function jobOutcome(status: string): JobOutcome {
  switch (canonicalStatus(status)) {
    case JobStatus.COMPLETED:
      return 'succeeded';
    case JobStatus.FAILED:
    case JobStatus.TIMED_OUT:
    case JobStatus.ERROR:
      return 'failed';
    case JobStatus.CANCELLED:
      return 'cancelled';
    default:
      return 'none';
  }
}
