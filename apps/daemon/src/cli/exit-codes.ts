/**
 * Exit codes of `jobwatch wait` (and the other commands), a fixed contract that scripts rely on.
 */
import { jobOutcome } from '@jobwatch/schema';

/** Every exit code `jobwatch` uses. */
export const ExitCode = {
  /** Every job COMPLETED (or the command ended normally). */
  OK: 0,
  /** A job FAILED or TIMED OUT. */
  FAILED: 1,
  /** Usage or configuration error; nothing was asked of the server. */
  USAGE: 2,
  /** A job was CANCELLED. */
  CANCELLED: 3,
  /** `--timeout` ran out before a job ended. */
  TIMEOUT: 4,
  /** A job could not be watched: not found, credentials refused, or an error that did not pass. */
  UNWATCHABLE: 5,
  /** Interrupted (SIGINT/SIGTERM) before every job ended, as shells report a SIGINT. */
  INTERRUPTED: 130,
} as const;
/** One of {@link ExitCode}. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Which code wins when outcomes mix: 2, then 5, 1, 4, 3, 0. */
const RANK: Record<ExitCodeValue, number> = { 130: 7, 2: 6, 5: 5, 1: 4, 4: 3, 3: 2, 0: 1 };

/** The code that wins among several, by the fixed precedence 2 > 5 > 1 > 4 > 3 > 0. */
export function worstExitCode(codes: Iterable<ExitCodeValue>): ExitCodeValue {
  let worst: ExitCodeValue = ExitCode.OK;
  for (const code of codes) if (RANK[code] > RANK[worst]) worst = code;
  return worst;
}

/** The exit code of a job that ended with `status`. */
export function exitCodeForStatus(status: string): ExitCodeValue {
  switch (jobOutcome(status)) {
    case 'succeeded':
      return ExitCode.OK;
    case 'failed':
      return ExitCode.FAILED;
    case 'cancelled':
      return ExitCode.CANCELLED;
    default:
      return ExitCode.UNWATCHABLE;
  }
}

/** The exit code of an error that ended a watch, read from its stable `code`. */
export function exitCodeForError(error: unknown): ExitCodeValue {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'WAIT_TIMEOUT':
      return ExitCode.TIMEOUT;
    case 'CONFIG':
    case 'USAGE':
    case 'INVALID_JOB_ID':
      return ExitCode.USAGE;
    default:
      return ExitCode.UNWATCHABLE;
  }
}
