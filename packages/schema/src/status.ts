/**
 * Job statuses and what they mean. This file is the one place in jobwatch that decides
 * whether a status is an end, how it ended, and whether it is known at all.
 */

/**
 * The job statuses the ArcGIS Enterprise Administrator API is known to return.
 *
 * `TIMED OUT` (with a space) is not in the job resource's documentation but Esri's own
 * backup tool treats it as a terminal failure, so jobwatch does too.
 *
 * @example
 * ```ts
 * if (job.status === JobStatus.FAILED) showMessages(job.messages);
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

const known = new Set<string>(KNOWN_JOB_STATUSES);

/** The statuses after which a job never changes again. */
export const TERMINAL_JOB_STATUSES: readonly KnownJobStatus[] = Object.freeze([
  JobStatus.COMPLETED,
  JobStatus.FAILED,
  JobStatus.TIMED_OUT,
  JobStatus.CANCELLED,
]);

const terminal = new Set<string>(TERMINAL_JOB_STATUSES);

/**
 * How a job ended: `succeeded` (COMPLETED), `failed` (FAILED, TIMED OUT), `cancelled`
 * (CANCELLED), or `none` while it has not ended (or its status is unknown).
 */
export type JobOutcome = 'succeeded' | 'failed' | 'cancelled' | 'none';

/**
 * Where a status sits: `terminal` (an end), `passing` (keep watching: SUBMITTED,
 * EXECUTING, CANCELLING, UNAVAILABLE) or `unknown` (a status jobwatch has never seen).
 */
export type JobStatusKind = 'terminal' | 'passing' | 'unknown';

/** Whether `status` is one of the documented (or observed) statuses. */
export function isKnownJobStatus(status: string): status is KnownJobStatus {
  return known.has(status);
}

/** Whether a job with this status has ended: COMPLETED, FAILED, TIMED OUT or CANCELLED. */
export function isTerminalStatus(status: string): boolean {
  return terminal.has(status);
}

/**
 * Whether `status` is a passing condition: SUBMITTED, EXECUTING, CANCELLING or
 * UNAVAILABLE ("the status cannot be had right now" is not an end).
 */
export function isPassingStatus(status: string): boolean {
  return known.has(status) && !terminal.has(status);
}

/**
 * The kind of a status.
 *
 * Unknown statuses are an explicit policy, not an accident: they are kept verbatim,
 * never treated as an end, and surfaced so a person can see them. Streams keep watching
 * a job whose status is unknown (see `@jobwatch/rx`'s `unknownStatus` option).
 */
export function statusKind(status: string): JobStatusKind {
  if (terminal.has(status)) return 'terminal';
  return known.has(status) ? 'passing' : 'unknown';
}

/** How a job with this status ended; `none` while it runs or when the status is unknown. */
export function jobOutcome(status: string): JobOutcome {
  switch (status) {
    case JobStatus.COMPLETED:
      return 'succeeded';
    case JobStatus.FAILED:
    case JobStatus.TIMED_OUT:
      return 'failed';
    case JobStatus.CANCELLED:
      return 'cancelled';
    default:
      return 'none';
  }
}
