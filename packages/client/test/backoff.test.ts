import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/index.js';

const at = (r: number) => () => r;

describe('backoffDelay', () => {
  it('doubles the ceiling from the first wait, up to the cap', () => {
    const waits = [1, 2, 3, 4, 5, 6].map((n) =>
      backoffDelay(n, { baseMs: 250, capMs: 5000, jitter: 0 }),
    );
    expect(waits).toEqual([250, 500, 1000, 2000, 4000, 5000]);
  });

  it('draws a full-jitter wait from [0, ceiling] and an equal-jitter one from [ceiling/2, ceiling]', () => {
    expect(backoffDelay(3, { baseMs: 250, capMs: 10_000, random: at(0) })).toBe(0);
    expect(backoffDelay(3, { baseMs: 250, capMs: 10_000, random: at(0.5) })).toBe(500);
    expect(backoffDelay(3, { baseMs: 250, capMs: 10_000, jitter: 0.5, random: at(0) })).toBe(500);
    expect(backoffDelay(3, { baseMs: 250, capMs: 10_000, jitter: 0.5, random: at(1) })).toBe(1000);
  });

  it('never waits less than the server asked for', () => {
    expect(backoffDelay(1, { baseMs: 250, capMs: 10_000, retryAfterMs: 7000 })).toBe(7000);
    expect(backoffDelay(9, { baseMs: 250, capMs: 10_000, jitter: 0, retryAfterMs: 1000 })).toBe(
      10_000,
    );
  });

  it('stays within [ceiling·(1−jitter), ceiling] and finite for any attempt and draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 10_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: -1, max: 2, noNaN: true }),
        (attempt, jitter, r) => {
          const wait = backoffDelay(attempt, { baseMs: 100, capMs: 30_000, jitter, random: at(r) });
          const ceiling = Math.min(30_000, 100 * 2 ** Math.min(30, Math.max(0, attempt - 1)));
          expect(Number.isFinite(wait)).toBe(true);
          expect(wait).toBeLessThanOrEqual(ceiling + 1e-9);
          expect(wait).toBeGreaterThanOrEqual(ceiling * (1 - jitter) - 1e-9);
        },
      ),
    );
  });
});
