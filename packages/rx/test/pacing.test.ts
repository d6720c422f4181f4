import { ConfigError } from '@jobwatch/client';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PACING, nextPollDelay, resolvePacing, troubleDelay } from '../src/index.js';

const fixed = (r: number) => resolvePacing({ random: () => r });
const noJitter = resolvePacing({ jitter: 0 });

describe('pacing', () => {
  it('documents its defaults', () => {
    expect(DEFAULT_PACING).toMatchObject({
      minInterval: 1000,
      maxInterval: 60_000,
      ageFactor: 0.1,
      changeFactor: 100,
      jitter: 0.1,
      troubleInterval: 1000,
      maxTroubleInterval: 30_000,
    });
  });

  it('polls a young job at the floor', () => {
    expect(nextPollDelay(noJitter, 0, 0)).toBe(1000);
    expect(nextPollDelay(noJitter, 5000, 5000)).toBe(1000);
  });

  it('waits a share of the age once the job is older', () => {
    expect(nextPollDelay(noJitter, 100_000, 100_000)).toBeCloseTo(10_000);
    expect(nextPollDelay(noJitter, 300_000, 300_000)).toBeCloseTo(30_000);
  });

  it('never waits longer than the ceiling', () => {
    expect(nextPollDelay(noJitter, 24 * 3600_000, 24 * 3600_000)).toBe(60_000);
  });

  it('polls faster again right after a change', () => {
    const old = 500_000;
    expect(nextPollDelay(noJitter, old, old)).toBeCloseTo(50_000);
    expect(nextPollDelay(noJitter, old, 0)).toBe(1000);
    expect(nextPollDelay(noJitter, old, 2000)).toBeCloseTo(0.1 * 100 * 2000);
    // The fast spell ends once 100 × the time since the change reaches the age.
    expect(nextPollDelay(noJitter, old, 5000)).toBeCloseTo(50_000);
    expect(nextPollDelay(resolvePacing({ jitter: 0, changeFactor: Infinity }), old, 0)).toBeCloseTo(
      50_000,
    );
  });

  it('keeps the lag within max(1 s, 10% of the age) whatever the jitter draws', () => {
    for (const age of [0, 5000, 20_000, 100_000, 500_000, 3_600_000]) {
      for (const draw of [0, 0.25, 0.5, 0.999999]) {
        const wait = nextPollDelay(fixed(draw), age, age);
        expect(wait).toBeLessThanOrEqual(Math.max(1000, 0.1 * age));
        expect(wait).toBeGreaterThanOrEqual(0.9 * Math.min(60_000, Math.max(1000, 0.1 * age)));
      }
    }
  });

  it('spreads every wait by the jitter, only ever shortening it', () => {
    expect(nextPollDelay(fixed(0), 0, 0)).toBeCloseTo(1000);
    expect(nextPollDelay(fixed(0.5), 0, 0)).toBeCloseTo(950);
    expect(nextPollDelay(fixed(0.99999999), 0, 0)).toBeCloseTo(900);
    expect(troubleDelay(fixed(0.5), 2)).toBeCloseTo(1900);
  });

  it('backs off exponentially after failures, up to a ceiling', () => {
    expect([1, 2, 3, 4, 10].map((n) => troubleDelay(noJitter, n))).toEqual([
      1000, 2000, 4000, 8000, 30_000,
    ]);
  });

  it("honours the server's Retry-After when it is longer", () => {
    expect(troubleDelay(noJitter, 1, 7000)).toBe(7000);
    expect(troubleDelay(noJitter, 4, 10)).toBe(8000);
  });

  it.each([
    ['negative floor', { minInterval: -1 }, /minInterval/],
    ['NaN ceiling', { maxInterval: Number.NaN }, /maxInterval/],
    ['floor above ceiling', { minInterval: 5000, maxInterval: 1000 }, /must not exceed/],
    ['jitter of 1', { jitter: 1 }, /jitter/],
    ['negative jitter', { jitter: -0.1 }, /jitter/],
    ['zero age factor', { ageFactor: 0 }, /ageFactor/],
    ['random that is not a function', { random: 3 as unknown as () => number }, /random/],
  ])('refuses a %s with a ConfigError', (_name, options, message) => {
    expect(() => resolvePacing(options)).toThrow(message);
    expect(() => resolvePacing(options)).toThrow(ConfigError);
  });
});
