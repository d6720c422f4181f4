/**
 * The `eta` on snapshots: made from a kind's duration estimate where there is one, and read
 * by whoever shows it (the command line's live line, the widget), so that both say the same.
 */
import type { SnapshotEta } from '@jobwatch/schema';
import type { DurationEstimate } from './model.js';

/**
 * The `eta` of a job that has run `age` ms, as of `now` (epoch ms): the median and the 80 %
 * interval of its end given that it has not ended yet, how many earlier jobs of its kind it
 * rests on, and whether it has run longer than 9 in 10 of them.
 */
export function makeEta(estimate: DurationEstimate, age: number, now: number): SnapshotEta {
  const a = Math.max(0, age);
  return {
    middle: Math.round(now + estimate.remaining(a, 0.5)),
    low: Math.round(now + estimate.remaining(a, 0.1)),
    high: Math.round(now + estimate.remaining(a, 0.9)),
    basis: estimate.samples,
    overdue: a > estimate.quantile(0.9),
  };
}

/** What an `eta` says at one moment, for display: see {@link readEta}. */
export interface EtaReading {
  /**
   * The job has run longer than 9 in 10 earlier jobs of its kind (or past the end of its
   * 80 % interval since the snapshot): say so, not a time left.
   */
  readonly overdue: boolean;
  /** ms left until the most likely end, never negative (0: any moment now). */
  readonly left: number;
  /** ms left until the start of the 80 % interval, never negative. */
  readonly low: number;
  /** ms left until the end of the 80 % interval, never negative. */
  readonly high: number;
  /** Earlier jobs of its kind it rests on. */
  readonly basis: number;
}

/**
 * Reads an `eta` at `now` (epoch ms, the same clock as the snapshot's times): time left,
 * never negative, and overdue once the job has run past what usually suffices. Count down
 * with it between snapshots: a snapshot comes only when something a user sees changes.
 *
 * @example
 * ```ts
 * const r = readEta(snapshot.eta, Date.now());
 * r.overdue ? 'longer than usual' : `about ${r.left / 1000} s left (usually ${r.low / 1000}–${r.high / 1000} s, from ${r.basis} earlier)`;
 * ```
 */
export function readEta(eta: SnapshotEta, now: number): EtaReading {
  const left = (t: number) => Math.max(0, t - now);
  return {
    overdue: eta.overdue || now > eta.high,
    left: left(eta.middle),
    low: left(eta.low),
    high: left(eta.high),
    basis: eta.basis,
  };
}
