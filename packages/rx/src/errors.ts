import { ErrorCode, JobwatchError } from '@jobwatch/client';
import type { JobOutcome, Snapshot } from '@jobwatch/schema';

/**
 * A watch ran past its `maxWait`. Only the watching stopped: the admin API has no cancel,
 * so the job itself goes on on the server.
 *
 * @example
 * ```ts
 * watchJob(client, id, { maxWait: 60_000 }).subscribe({
 *   error: (e) => { if (e instanceof WaitTimeoutError) console.log(e.last?.status); },
 * });
 * ```
 */
export class WaitTimeoutError extends JobwatchError {
  override name = 'WaitTimeoutError';
  /** The job waited for. */
  readonly jobid: string;
  /** The limit that ran out, in ms. */
  readonly maxWait: number;
  /** The last snapshot seen before the limit, if any. */
  readonly last: Snapshot | undefined;
  constructor(options: {
    readonly jobid: string;
    readonly maxWait: number;
    readonly last?: Snapshot | undefined;
  }) {
    super(
      ErrorCode.WAIT_TIMEOUT,
      `Job ${options.jobid} did not end within ${options.maxWait} ms; it may still be running on the server`,
    );
    this.jobid = options.jobid;
    this.maxWait = options.maxWait;
    this.last = options.last;
  }
}

/**
 * No answer at all came from the server for a watch's `maxUnreachable`: every request in
 * that time failed before the server said anything (connection refused, unknown host,
 * reset, timeout). An answer that is an error (a 502, a job `UNAVAILABLE`) is an answer, and
 * does not count. Only the watching stopped.
 */
export class UnreachableError extends JobwatchError {
  override name = 'UnreachableError';
  /** The job being watched. */
  readonly jobid: string;
  /** The limit that ran out, in ms. */
  readonly maxUnreachable: number;
  /** Epoch ms of the server's last answer, `undefined` when it never answered. */
  readonly lastAnswer: number | undefined;
  /** The last failure, already free of secrets. */
  readonly last: JobwatchError | undefined;
  constructor(options: {
    readonly jobid: string;
    readonly maxUnreachable: number;
    readonly lastAnswer?: number | undefined;
    readonly last?: JobwatchError | undefined;
  }) {
    super(
      ErrorCode.UNREACHABLE,
      `No answer from the server for ${options.maxUnreachable} ms while watching job ${options.jobid}${
        options.lastAnswer === undefined ? ' (it never answered)' : ''
      }${options.last ? `; last: ${options.last.message}` : ''}`,
      { cause: options.last },
    );
    this.jobid = options.jobid;
    this.maxUnreachable = options.maxUnreachable;
    this.lastAnswer = options.lastAnswer;
    this.last = options.last;
  }
}

/**
 * A job reached a status that jobwatch does not know, under the `unknownStatus: 'error'`
 * policy. The body itself was valid; the code is `SCHEMA` because the answer is outside
 * what the caller chose to accept.
 */
export class UnknownStatusError extends JobwatchError {
  override name = 'UnknownStatusError';
  /** The job. */
  readonly jobid: string;
  /** The status as the server sent it. */
  readonly status: string;
  constructor(options: { readonly jobid: string; readonly status: string }) {
    super(
      ErrorCode.SCHEMA,
      `Job ${options.jobid} has the unknown status ${JSON.stringify(options.status.slice(0, 64))}; watch it with unknownStatus: 'watch' to keep going`,
    );
    this.jobid = options.jobid;
    this.status = options.status;
  }
}

/** The stable code of {@link JobFailedError}: `ErrorCode.JOB_FAILED` of `@jobwatch/client`. */
export const JOB_FAILED = ErrorCode.JOB_FAILED;

/**
 * `waitForJob(..., { rejectOnFailure: true })` met a job that ended FAILED, TIMED OUT or
 * CANCELLED. The job body is a normal value; this error only carries it to a caller that
 * asked for a rejection. Never retryable: the job has ended.
 */
export class JobFailedError extends JobwatchError {
  override name = 'JobFailedError';
  declare readonly code: typeof JOB_FAILED;
  /** `failed` (FAILED, TIMED OUT) or `cancelled`. */
  readonly outcome: Exclude<JobOutcome, 'succeeded' | 'none'>;
  /** The final snapshot. */
  readonly snapshot: Snapshot;
  constructor(snapshot: Snapshot) {
    const reason = snapshot.reason;
    super(
      JOB_FAILED,
      `Job ${snapshot.jobid} ended ${snapshot.status ?? 'unknown'}${reason ? `: ${reason.slice(0, 300)}` : ''}`,
    );
    this.outcome = snapshot.outcome === 'cancelled' ? 'cancelled' : 'failed';
    this.snapshot = snapshot;
  }
}
