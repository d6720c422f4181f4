/**
 * Errors the simulator throws in-process (bad options, bad control specs, a clock that is
 * not manual). Each carries a stable machine `code`; over HTTP the control surface answers
 * the same code in `{"error": {"code", "message"}}`.
 */

import { CodedError } from '@jobwatch/schema';

/** Stable codes of {@link SimulatorError}. */
export const SimulatorErrorCode = {
  /** An option passed to `startSimulator` or the command line is not valid. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** A control spec (job, faults, clock advance) is not valid. */
  INVALID_SPEC: 'INVALID_SPEC',
  /** `advance()` was called, but the clock is not manual. */
  CLOCK_NOT_MANUAL: 'CLOCK_NOT_MANUAL',
  /** `issueToken()` named a user the simulator does not know. */
  UNKNOWN_USER: 'UNKNOWN_USER',
} as const;

/** One of {@link SimulatorErrorCode}. */
export type SimulatorErrorCodeValue = (typeof SimulatorErrorCode)[keyof typeof SimulatorErrorCode];

/** An expected failure of the simulator's own API, with a stable `code`. */
export class SimulatorError extends CodedError<SimulatorErrorCodeValue> {
  override readonly name = 'SimulatorError';
}

/** Whether `value` is a {@link SimulatorError}. */
export function isSimulatorError(value: unknown): value is SimulatorError {
  return value instanceof SimulatorError;
}
