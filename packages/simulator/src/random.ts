/**
 * Seeded randomness. Every random choice of the simulator (job ids, durations, the
 * workload's arrivals and outcomes, faults) draws from a stream derived from one seed, so
 * the same seed gives the same run. Tokens are the exception: they come from the system's
 * secure random source, since a guessable token would be a real weakness on a shared host.
 */

/** A stream of uniform numbers in [0, 1). */
export type Random = () => number;

/** Mixes a seed into a well-spread 32-bit value (splitmix32). */
function splitmix32(a: number): () => number {
  let state = a >>> 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A small fast PRNG (sfc32) seeded from `seed` and a stream name, so that independent
 * concerns (ids, workload, faults) do not disturb each other's sequences. Exported for the
 * tests and benchmarks that drive a simulator, so that their own choices replay from a seed
 * too.
 *
 * @example
 * ```ts
 * const random = createRandom(42, 'my-test');
 * const durationMs = logUniform(random, 1_000, 60_000);
 * ```
 */
export function createRandom(seed: number, stream: string): Random {
  let h = seed >>> 0;
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193);
  const mix = splitmix32(h);
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

const HEX = '0123456789abcdef';

/** A job id in ArcGIS Enterprise's form: `j` and a dashed version-4 UUID. */
export function randomJobId(random: Random): string {
  let out = 'j';
  for (let i = 0; i < 32; i++) {
    if (i === 8 || i === 12 || i === 16 || i === 20) out += '-';
    let n = Math.floor(random() * 16);
    if (i === 12) n = 4;
    else if (i === 16) n = 8 | (n & 3);
    out += HEX[n];
  }
  return out;
}

/** A lowercase alphanumeric string, for service ids and deployment ids. */
export function randomAlnum(random: Random, length: number): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < length; i++) out += chars[Math.floor(random() * chars.length)];
  return out;
}

/** A lowercase hexadecimal string, for portal item ids. */
export function randomHex(random: Random, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += HEX[Math.floor(random() * 16)];
  return out;
}

/** A value between `min` and `max` whose logarithm is uniform (many short, a few long). */
export function logUniform(random: Random, min: number, max: number): number {
  if (max <= min) return min;
  const lo = Math.log(Math.max(min, 1));
  const hi = Math.log(Math.max(max, 1));
  return Math.round(Math.exp(lo + (hi - lo) * random()));
}

/** An exponentially distributed wait with the given mean (Poisson arrivals). */
export function exponential(random: Random, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

/** A seed from the system when none is given. */
export function freshSeed(): number {
  return (Math.random() * 4294967296) >>> 0;
}
