import { backoffDelay, ConfigError } from '@jobwatch/client';
import { type DurationEstimate, normalCdf } from './model.js';
/**
 * How often one job is polled. A pure function of the job's age and of the time since it
 * last changed — and, once its kind has a history, of how long earlier jobs of its kind
 * took — so it is easy to reason about, to test and to benchmark.
 */

/**
 * Pacing from history (see {@link learnedPollDelay}): used only for a job whose kind has
 * enough earlier jobs in the watcher's duration model, while it is SUBMITTED or EXECUTING.
 */
export interface LearnedPacingOptions {
  /**
   * Within the likely end, the longest wait as a share of the job's age: a job that ends
   * there is seen within this share of its duration (or within the floor). @default 0.05
   */
  readonly lagShare?: number;
  /**
   * Where the likely end begins: once the job, given that it is still running, has this
   * chance of ending before the next dense poll (by its kind's history). A kind with a wide
   * spread of durations starts later in its spread than a narrow one, which spends lag
   * misses where they save the most polls. @default 0.01
   */
  readonly startChance?: number;
  /**
   * Where the likely end is over: the share of earlier jobs that had ended by then. Past
   * it, pacing is by age again (today's lag promise). @default 0.995
   */
  readonly to?: number;
  /**
   * Before the likely end, the longest wait as a share of the time until it begins (0.25:
   * four polls on the way there), so a change then — an early failure — is seen within a
   * quarter of that time. @default 0.25
   */
  readonly sparseShare?: number;
  /** Ceiling of any wait paced by history, in ms. @default 600000 */
  readonly maxInterval?: number;
}

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
  /** Pacing from history, when the watcher has a duration model. */
  readonly learned?: LearnedPacingOptions;
}

/** The pacing defaults. */
export const DEFAULT_PACING: ResolvedPacing = Object.freeze({
  minInterval: 1000,
  maxInterval: 60_000,
  ageFactor: 0.1,
  changeFactor: 100,
  jitter: 0.1,
  troubleInterval: 1000,
  maxTroubleInterval: 30_000,
  random: Math.random,
  learned: Object.freeze({
    lagShare: 0.05,
    startChance: 0.011,
    to: 0.995,
    sparseShare: 0.5,
    maxInterval: 600_000,
  }),
});

/** Pacing with every default filled in. */
export type ResolvedPacing = Readonly<
  Required<Omit<PacingOptions, 'learned'>> & { learned: Readonly<Required<LearnedPacingOptions>> }
>;

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
  const learned = {
    ...DEFAULT_PACING.learned,
    ...stripUndefined(options.learned ?? {}),
  } as Required<LearnedPacingOptions>;
  const p = { ...DEFAULT_PACING, ...stripUndefined(options), learned: Object.freeze(learned) };
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
  positive('learned.lagShare', learned.lagShare);
  positive('learned.sparseShare', learned.sparseShare);
  positive('learned.maxInterval', learned.maxInterval);
  if (!(learned.startChance > 0 && learned.startChance < 1)) {
    throw new ConfigError(
      `pacing.learned.startChance must be between 0 and 1, got ${String(learned.startChance)}`,
    );
  }
  if (!(learned.to > 0.5 && learned.to < 1)) {
    throw new ConfigError(`pacing.learned.to must be between 0.5 and 1, got ${String(learned.to)}`);
  }
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
  // Pacing draws how much to shorten a wait; the shared backoff draws how much of its random
  // share to keep. Handing it `1 − random()` gives the same wait for the same draw.
  return backoffDelay(attempts, {
    baseMs: p.troubleInterval,
    capMs: p.maxTroubleInterval,
    jitter: p.jitter,
    random: () => 1 - p.random(),
    retryAfterMs,
  });
}

/**
 * The wait before the next poll of a healthy job whose kind has a history, in ms: sparse
 * while the job is surely still running, dense around its likely end, by age past it.
 *
 * - Before the likely end (see `learned.startChance`, and {@link denseStart}): up to
 *   `learned.sparseShare` of the time until it begins (at least the floor), landing on it.
 * - Within it: up to `learned.lagShare` of the age (at least the floor, at most
 *   `learned.maxInterval`), so a job that ends there is seen within max(floor, 5 %) of its
 *   duration.
 * - Past it (the `learned.to` quantile): exactly {@link nextPollDelay}, so a job that runs
 *   long is still seen within today's lag promise.
 *
 * Jitter shortens every wait, as everywhere. The time since the last change does not
 * count before the end of the window: the history says when the end is due, an earlier
 * change does not.
 *
 * @param estimate - the kind's history (`model.estimate(kind)`), or anything that answers quantiles.
 * @param age - the job's age in ms.
 * @param sinceChange - ms since what a user sees last changed (used past the window).
 */
export function learnedPollDelay(
  p: ResolvedPacing,
  estimate: Pick<DurationEstimate, 'quantile' | 'logSpread'>,
  age: number,
  sinceChange: number,
): number {
  const l = p.learned;
  const a = Math.max(0, age);
  const end = estimate.quantile(l.to);
  if (!(a < end)) return nextPollDelay(p, a, sinceChange);
  const ceiling = Math.max(p.minInterval, l.maxInterval);
  const dense = clamp(l.lagShare * a, p.minInterval, ceiling);
  const start = denseStart(p, estimate);
  if (a + dense >= start) return jittered(p, dense);
  const sparse = clamp(l.sparseShare * start, p.minInterval, ceiling);
  return jittered(p, Math.min(sparse, start - a));
}

/**
 * Where the dense window of a kind begins, in ms of age: the quantile of its durations at
 * which a job still running would have `learned.startChance` of ending before the next
 * dense poll, were its durations log-normal with the kind's spread (`logSpread`). Reading
 * the chance from the spread rather than from the durations themselves keeps the start
 * steady when a few earlier jobs happen to cluster; the quantile itself is the kind's own.
 * A wide kind starts later in its spread than a narrow one: there, polls saved per lag
 * missed are most. At the latest, the median.
 */
export function denseStart(
  p: ResolvedPacing,
  estimate: Pick<DurationEstimate, 'quantile' | 'logSpread'>,
): number {
  const l = p.learned;
  // The chance of ending within one step of ln(1 + lagShare) in log time, from z on:
  // hazard(z) × step ÷ spread. The normal hazard rises with z, so bisect.
  const step = Math.log1p(l.lagShare);
  const sigma = Math.max(1e-6, estimate.logSpread);
  const chance = (z: number) => (normalPdf(z) / (1 - normalCdf(z))) * (step / sigma);
  let lo = -5;
  let hi = 0;
  if (chance(hi) < l.startChance) return estimate.quantile(0.5);
  if (chance(lo) >= l.startChance) return estimate.quantile(normalCdf(lo));
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (chance(mid) >= l.startChance) hi = mid;
    else lo = mid;
  }
  return estimate.quantile(normalCdf(hi));
}

const normalPdf = (z: number) => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
