import { SimulatorError } from './errors.js';

/**
 * The simulator's time source: real, scaled by a speed factor, or manual.
 *
 * - `'real'`: wall-clock time.
 * - `{ speed }`: simulated time runs `speed` times as fast as the wall clock, from the
 *   moment the simulator starts (a demo of hour-long jobs in minutes).
 * - `'manual'`: time stands still until {@link SimClock.advance} (tests).
 */
export type ClockOption = 'real' | { readonly speed: number } | 'manual';

/** A clock the simulator reads; all job times and token expiries come from it. */
export interface SimClock {
  /** Which kind of clock this is. */
  readonly kind: 'real' | 'scaled' | 'manual';
  /** Simulated epoch milliseconds (an integer). */
  now(): number;
  /**
   * Moves a manual clock forward by `ms`.
   * @throws {@link SimulatorError} `CLOCK_NOT_MANUAL` on other clocks; `INVALID_SPEC` for a negative or non-finite `ms`.
   */
  advance(ms: number): number;
}

/** Creates a clock. `start` is the simulated time at creation (default: now). */
export function createClock(option: ClockOption = 'real', start: number = Date.now()): SimClock {
  if (option === 'real') {
    return { kind: 'real', now: () => Date.now(), advance: notManual };
  }
  if (option === 'manual') {
    let t = Math.floor(start);
    return {
      kind: 'manual',
      now: () => t,
      advance(ms: number) {
        if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
          throw new SimulatorError(
            'INVALID_SPEC',
            'advance(ms) takes a finite number of milliseconds ≥ 0',
          );
        }
        t += Math.floor(ms);
        return t;
      },
    };
  }
  if (
    typeof option === 'object' &&
    option !== null &&
    typeof option.speed === 'number' &&
    option.speed > 0 &&
    Number.isFinite(option.speed)
  ) {
    const { speed } = option;
    const wallStart = Date.now();
    const simStart = Math.floor(start);
    return {
      kind: 'scaled',
      now: () => simStart + Math.floor((Date.now() - wallStart) * speed),
      advance: notManual,
    };
  }
  throw new SimulatorError(
    'INVALID_OPTIONS',
    "clock must be 'real', 'manual' or { speed: <number > 0> }",
  );
}

function notManual(): never {
  throw new SimulatorError(
    'CLOCK_NOT_MANUAL',
    "the clock can only be advanced when it is 'manual'",
  );
}
