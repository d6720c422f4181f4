/**
 * Seeded randomness for the campaign and the property tests: every random choice comes from
 * one seed, printed at the start, so a failing run can be replayed.
 */

import { createRandom, type Random } from '@jobwatch/simulator';

/** A function returning numbers in [0, 1), like `Math.random`, from a seed. */
export type { Random };

/** Numbers in [0, 1) from `seed`: the simulator's generator, on a stream of its own. */
export const seededRandom = (seed: number): Random => createRandom(seed, 'e2e');

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
