/**
 * The duration parser as a property: whatever a person writes, it answers an integer number
 * of milliseconds within its bounds, or a usage error naming the setting; never 0, NaN, a
 * fraction or a length no timer could hold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../src/duration.js';
import { DaemonError } from '../src/errors.js';

const UNITS = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};
type Unit = keyof typeof UNITS;

const part = fc.record({
  n: fc.oneof(fc.nat({ max: 5_000 }), fc.double({ min: 0, max: 5_000, noNaN: true })),
  unit: fc.constantFrom(...(Object.keys(UNITS) as Unit[])),
});
const written = (parts: Array<{ n: number; unit: Unit }>) =>
  parts.map((p) => `${Number.isInteger(p.n) ? p.n : p.n.toFixed(3)}${p.unit}`).join('');
const msOf = (parts: Array<{ n: number; unit: Unit }>) =>
  parts.reduce(
    (sum, p) => sum + Number(Number.isInteger(p.n) ? p.n : p.n.toFixed(3)) * UNITS[p.unit],
    0,
  );

function outcome(text: string, bounds = {}): number | DaemonError {
  try {
    return parseDuration(text, 'some.key', bounds);
  } catch (error) {
    expect(error).toBeInstanceOf(DaemonError);
    return error as DaemonError;
  }
}

describe('parseDuration (properties)', () => {
  it('reads any sum of parts as its rounded value, or refuses it as too short or too long', () => {
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 4 }), (parts) => {
        const text = written(parts);
        const expected = Math.round(msOf(parts));
        const got = outcome(text);
        if (expected < 1)
          expect((got as DaemonError).message).toMatch(/^some\.key: .* is shorter than 1ms$/);
        else if (expected > MAX_DURATION_MS)
          expect((got as DaemonError).message).toMatch(/^some\.key: .* is longer than 1000y/);
        else expect(got).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('answers an integer from 1 ms to 1000 years, or an error naming the key, for any text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 30 }),
          fc.stringMatching(/^[0-9.]{1,25}(ms|s|m|h|d|w|y){0,3}$/),
        ),
        (text) => {
          const got = outcome(text);
          if (typeof got === 'number') {
            expect(Number.isSafeInteger(got)).toBe(true);
            expect(got).toBeGreaterThanOrEqual(1);
            expect(got).toBeLessThanOrEqual(MAX_DURATION_MS);
          } else {
            expect(got.message.startsWith('some.key: ')).toBe(true);
            expect(got.message).not.toContain('\n');
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('keeps bounds, naming the key and the range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), (seconds) => {
        const got = outcome(`${seconds}s`, { min: 1_000, max: 3_600_000 });
        if (seconds <= 3_600) expect(got).toBe(seconds * 1000);
        else
          expect((got as DaemonError).message).toBe(
            `some.key: expected between 1s and 1h0m0s, got "${seconds}s"`,
          );
      }),
    );
  });

  it('reads back what formatDuration writes, to the second', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_000, max: MAX_DURATION_MS }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(Math.floor(ms / 1000) * 1000);
      }),
    );
  });

  it.each([
    ['0.4ms', /shorter than 1ms/],
    ['1001y', /longer than 1000y/],
    ['99999999999999999999999d', /longer than 1000y/],
    ['25', /has no unit/],
  ])('refuses %j', (text, message) => {
    expect(() => parseDuration(text, '--timeout')).toThrow(message);
  });

  it('reads weeks and years', () => {
    expect(parseDuration('2w')).toBe(14 * 86_400_000);
    expect(parseDuration('1y6w')).toBe(365 * 86_400_000 + 42 * 86_400_000);
  });
});
