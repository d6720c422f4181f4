/**
 * The exit codes themselves, with nothing to load: the command line's entry reads them before
 * it knows which command runs (see `exit-codes.ts` for how outcomes and errors map to them).
 */

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
