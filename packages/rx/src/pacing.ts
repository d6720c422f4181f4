import { ConfigError } from '@jobwatch/client';
/**
 * How often one job is polled. A pure function of the job's age and of the time since it
 * last changed, so it is easy to reason about, to test and to benchmark.
 */

/**
 * Pacing of one job's polls. Every field has a default (see {@link DEFAULT_PACING}).
 *
 * The wait before the next poll is
 * `clamp(ageFactor × min(age, changeFactor × sinceChange), minInterval, maxInterval)`,
 * then multiplied by a random factor in `[1 − jitter, 1]`. `age` is the job's age
 * (the larger of the time since jobwatch first saw it and the server's
 * `updatedtime − starttime`, so clock skew never makes it older than it is).
 *
 * With the defaults a change is seen within 10% of the job's age at the change (within 1 s
 * while it is younger than 10 s), whatever the jitter draws and as long as the request
 * budget keeps up, and a job that just changed is polled quickly again.
 */
export interface PacingOptions {
  /** Floor of the wait between two polls, in ms. @default 1000 */
  readonly minInterval?: number;
  /** Ceiling of the wait between two polls, in ms. @default 60000 */
  readonly maxInterval?: number;
  /**
   * The longest wait as a share of the job's age: with 0.1, a change is seen within 10% of
   * the job's age at the change (or within the floor, while the job is young). @default 0.1
   */
  readonly ageFactor?: number;
  /**
   * Right after a change the job is paced as if it were only `changeFactor` times the time
   * since that change old: polled again after the floor, then after `ageFactor ×
   * changeFactor` times the time since the change, until that catches up with its age.
   * A larger factor makes the fast spell shorter; `Infinity` turns it off. @default 100
   */
  readonly changeFactor?: number;
  /**
   * Random spread of every wait, as a share: each wait is shortened by up to this much
   * (0.1: between 90% and 100% of the computed wait), never lengthened, so jitter never
   * pushes a change past its lag target. @default 0.1
   */
  readonly jitter?: number;
  /** First wait after a failed poll, in ms; doubles with each failure in a row. @default 1000 */
  readonly troubleInterval?: number;
  /** Ceiling of the wait after failures, in ms. @default 30000 */
  readonly maxTroubleInterval?: number;
  /** Source of randomness for jitter, returning [0, 1). @default Math.random */
  readonly random?: () => number;
}

/** The pacing defaults. */
export const DEFAULT_PACING: Readonly<Required<PacingOptions>> = Object.freeze({
  minInterval: 1000,
  maxInterval: 60_000,
  ageFactor: 0.1,
  changeFactor: 100,
  jitter: 0.1,
  troubleInterval: 1000,
  maxTroubleInterval: 30_000,
  random: Math.random,
});

/** Pacing with every default filled in. */
export type ResolvedPacing = Readonly<Required<PacingOptions>>;

const positive = (name: string, value: number, allowInfinity = false): number => {
  if (!(value > 0) || (!allowInfinity && !Number.isFinite(value))) {
    throw new ConfigError(`pacing.${name} must be a positive number, got ${String(value)}`);
  }
  return value;
};

/**
 * Fills in defaults and checks the values.
 * @throws ConfigError (code `CONFIG`) on a value that cannot work (negative, NaN, floor above ceiling, jitter ≥ 1).
 */
export function resolvePacing(options: PacingOptions = {}): ResolvedPacing {
  const p = { ...DEFAULT_PACING, ...stripUndefined(options) };
  positive('minInterval', p.minInterval);
  positive('maxInterval', p.maxInterval);
  positive('ageFactor', p.ageFactor);
  positive('changeFactor', p.changeFactor, true);
  positive('troubleInterval', p.troubleInterval);
  positive('maxTroubleInterval', p.maxTroubleInterval);
  if (p.minInterval > p.maxInterval) {
    throw new ConfigError(
      `pacing.minInterval (${p.minInterval}) must not exceed pacing.maxInterval (${p.maxInterval})`,
    );
  }
  if (!(p.jitter >= 0 && p.jitter < 1)) {
    throw new ConfigError(`pacing.jitter must be in [0, 1), got ${String(p.jitter)}`);
  }
  if (typeof p.random !== 'function') throw new ConfigError('pacing.random must be a function');
  return Object.freeze(p);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o))
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

const clamp = (x: number, lo: number, hi: number) => (x < lo ? lo : Math.min(x, hi));

/**
 * `base` shortened by a random share of up to `jitter`: never longer than `base`, so a
 * wait that `base` keeps within the lag target stays within it whatever the draw, while
 * loops that started together drift apart.
 */
export function jittered(p: ResolvedPacing, base: number): number {
  if (p.jitter === 0) return base;
  return base * (1 - p.jitter * p.random());
}

/**
 * The wait before the next poll of a healthy job, in ms.
 *
 * @param age - the job's age in ms.
 * @param sinceChange - ms since what a user sees last changed.
 */
export function nextPollDelay(p: ResolvedPacing, age: number, sinceChange: number): number {
  const recent =
    p.changeFactor === Number.POSITIVE_INFINITY ? age : p.changeFactor * Math.max(0, sinceChange);
  const effectiveAge = Math.min(Math.max(0, age), recent);
  return jittered(p, clamp(p.ageFactor * effectiveAge, p.minInterval, p.maxInterval));
}

/**
 * The wait after `attempts` failed polls in a row (1 for the first), in ms: exponential
 * from `troubleInterval`, capped, jittered, and never shorter than what the server asked
 * for (`Retry-After`).
 */
export function troubleDelay(p: ResolvedPacing, attempts: number, retryAfterMs?: number): number {
  const exp = Math.min(30, Math.max(0, attempts - 1));
  const base = Math.min(p.maxTroubleInterval, p.troubleInterval * 2 ** exp);
  const wait = jittered(p, base);
  return retryAfterMs !== undefined && retryAfterMs > wait ? retryAfterMs : wait;
}
