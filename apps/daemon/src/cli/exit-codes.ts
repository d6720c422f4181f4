/**
 * Exit codes of `jobwatch wait` (and the other commands), a fixed contract that scripts rely on,
 * and how outcomes and errors map to them.
 */
import { ConfigError, InvalidJobIdError } from '@jobwatch/client';
import { WaitTimeoutError } from '@jobwatch/rx';
import { jobOutcome, SchemaError } from '@jobwatch/schema';
import { DaemonError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from './exit-code.js';

export { ExitCode, type ExitCodeValue };

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

/**
 * The exit code of an error that ended a watch, by its class: rx's {@link WaitTimeoutError}
 * is a timeout; a `DaemonError`, the client's `ConfigError` or `InvalidJobIdError` (or the
 * schema's unsafe job id) is a usage error; anything else means the job could not be watched.
 */
export function exitCodeForError(error: unknown): ExitCodeValue {
  if (error instanceof WaitTimeoutError) return ExitCode.TIMEOUT;
  if (isUsageError(error)) return ExitCode.USAGE;
  return ExitCode.UNWATCHABLE;
}

/** Whether `error` says the command line or configuration cannot work, before any request. */
function isUsageError(error: unknown): boolean {
  return (
    error instanceof DaemonError ||
    error instanceof ConfigError ||
    error instanceof InvalidJobIdError ||
    (error instanceof SchemaError && error.code === 'INVALID_JOB_ID')
  );
}
