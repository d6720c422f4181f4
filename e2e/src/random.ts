/**
 * Seeded randomness for the campaign and the property tests: every random choice comes from
 * one seed, printed at the start, so a failing run can be replayed.
 */

/** A function returning numbers in [0, 1), like `Math.random`, from a seed. */
export type Random = () => number;

/** mulberry32: a small, fast, seeded PRNG with a 2^32 period. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed to use: the environment variable `name` when set (to replay a run), else a fresh
 * one. @throws {@link RangeError} when the variable is set but is not an unsigned integer.
 */
export function seedFrom(env: Readonly<Record<string, string | undefined>>, name: string): number {
  const text = env[name];
  if (text === undefined || text === '') return Math.floor(Math.random() * 2 ** 32);
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32)
    throw new RangeError(
      `${name}: expected an unsigned 32-bit integer, got ${JSON.stringify(text)}`,
    );
  return n;
}

/** A number in [min, max). */
export const between = (random: Random, min: number, max: number): number =>
  min + random() * (max - min);

/** A log-uniform number in [min, max). */
export const logUniform = (random: Random, min: number, max: number): number =>
  Math.exp(between(random, Math.log(min), Math.log(max)));

/** One element of a non-empty list. */
export function pick<T>(random: Random, list: readonly T[]): T {
  if (list.length === 0) throw new RangeError('pick: empty list');
  return list[Math.floor(random() * list.length)] as T;
}
