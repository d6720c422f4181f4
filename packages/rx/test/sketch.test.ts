import { ConfigError, ValidationError } from '@jobwatch/client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DurationSketch,
  SKETCH_MAX_BINS,
  SKETCH_MAX_DURATION,
  SKETCH_RELATIVE_ACCURACY,
} from '../src/index.js';

/**
 * The quantile the sketch promises, computed exactly from the durations: plotting
 * position p·(n+1), clamped to [1, n], interpolated geometrically between neighbours.
 */
function exactQuantile(durations: readonly number[], p: number): number {
  const sorted = [...durations].sort((a, b) => a - b);
  const n = sorted.length;
  const r = Math.min(n, Math.max(1, p * (n + 1)));
  const lo = Math.floor(r);
  const f = r - lo;
  const a = sorted[lo - 1]!;
  if (f === 0 || lo >= n) return a;
  const b = sorted[lo]!;
  return Math.exp((1 - f) * Math.log(a) + f * Math.log(b));
}

const sketchOf = (durations: readonly number[], window = Number.POSITIVE_INFINITY) => {
  const s = new DurationSketch({ window });
  for (const d of durations) s.add(d);
  return s;
};

const duration = fc.double({ min: 1, max: 1e9, noNaN: true, noDefaultInfinity: true });
const durations = fc.array(duration, { minLength: 1, maxLength: 300 });
const share = fc.double({ min: 0, max: 1, noNaN: true });

describe('DurationSketch', () => {
  it('answers every quantile within its relative accuracy', () => {
    fc.assert(
      fc.property(durations, fc.array(share, { minLength: 1, maxLength: 10 }), (ds, ps) => {
        const s = sketchOf(ds);
        for (const p of ps) {
          const exact = exactQuantile(ds, p);
          const got = s.quantile(p)!;
          expect(Math.abs(got - exact)).toBeLessThanOrEqual(
            SKETCH_RELATIVE_ACCURACY * exact * (1 + 1e-9),
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the shortest and longest duration exactly', () => {
    fc.assert(
      fc.property(durations, (ds) => {
        const s = sketchOf(ds);
        expect(s.min).toBe(Math.min(...ds));
        expect(s.max).toBe(Math.max(...ds));
        expect(s.quantile(0)).toBe(Math.min(...ds));
        expect(s.quantile(1)).toBe(Math.max(...ds));
      }),
    );
  });

  it('merges into exactly what one sketch fed both streams holds, in either order', () => {
    fc.assert(
      fc.property(durations, durations, (a, b) => {
        const ab = sketchOf(a);
        ab.merge(sketchOf(b));
        const ba = sketchOf(b);
        ba.merge(sketchOf(a));
        const both = sketchOf([...a, ...b]);
        expect(ab.toJSON()).toEqual(both.toJSON());
        expect(ba.toJSON()).toEqual(both.toJSON());
        expect(ab.count).toBe(a.length + b.length);
      }),
      { numRuns: 200 },
    );
  });

  it('merging is associative', () => {
    fc.assert(
      fc.property(durations, durations, durations, (a, b, c) => {
        const left = sketchOf(a);
        left.merge(sketchOf(b));
        left.merge(sketchOf(c));
        const bc = sketchOf(b);
        bc.merge(sketchOf(c));
        const right = sketchOf(a);
        right.merge(bc);
        expect(left.toJSON()).toEqual(right.toJSON());
      }),
      { numRuns: 100 },
    );
  });

  it('never holds more than its bin bound or its window, whatever it is fed', () => {
    const anything = fc.oneof(
      fc.double({ min: 0, max: 1e13, noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(0, 0.5, 1, SKETCH_MAX_DURATION, 1e15),
    );
    fc.assert(
      fc.property(fc.array(anything, { minLength: 1, maxLength: 500 }), (ds) => {
        const s = sketchOf(ds, 50);
        expect(s.binCount).toBeLessThanOrEqual(SKETCH_MAX_BINS);
        expect(s.weight).toBeLessThanOrEqual(50 + 1e-9);
        expect(s.count).toBe(ds.length);
        expect(s.max).toBeLessThanOrEqual(SKETCH_MAX_DURATION);
        expect(s.min).toBeGreaterThanOrEqual(1);
      }),
    );
    expect(SKETCH_MAX_BINS).toBeLessThan(700);
  });

  it('survives JSON unchanged', () => {
    fc.assert(
      fc.property(durations, fc.integer({ min: 1, max: 400 }), (ds, window) => {
        const s = sketchOf(ds, window);
        const back = DurationSketch.fromJSON(JSON.parse(JSON.stringify(s)), { window });
        expect(back.toJSON()).toEqual(s.toJSON());
        expect(back.quantile(0.5)).toBe(s.quantile(0.5));
      }),
    );
  });

  it('forgets old durations so that a kind that got slower is followed', () => {
    const s = new DurationSketch({ window: 100 });
    for (let i = 0; i < 1000; i++) s.add(10_000 + (i % 10) * 100);
    expect(s.quantile(0.5)).toBeCloseTo(10_450, -3);
    for (let i = 0; i < 500; i++) s.add(20_000 + (i % 10) * 100);
    expect(s.count).toBe(1500);
    expect(s.weight).toBeCloseTo(100);
    expect(s.quantile(0.5)! / 20_450).toBeGreaterThan(0.98);
    expect(s.quantile(0.5)! / 20_450).toBeLessThan(1.02);
    // The faded bins of the old durations are gone, not kept at a tiny weight.
    expect(s.binCount).toBeLessThan(20);
  });

  it('is empty until the first duration', () => {
    const s = new DurationSketch();
    expect(s.quantile(0.5)).toBeUndefined();
    expect(s.min).toBeUndefined();
    expect(s.count).toBe(0);
    s.add(0);
    expect(s.quantile(0.5)).toBe(1);
  });

  it.each([
    ['NaN', Number.NaN],
    ['a negative duration', -5],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('refuses %s with a ConfigError and keeps what it held', (_name, bad) => {
    const s = sketchOf([1000, 2000]);
    const before = s.toJSON();
    expect(() => s.add(bad)).toThrow(ConfigError);
    expect(s.toJSON()).toEqual(before);
  });

  it('refuses a window below one sample', () => {
    expect(() => new DurationSketch({ window: 0 })).toThrow(/window/);
  });

  it.each([
    ['not an object', 42, '', /expected an object, got 42/],
    ['a negative weight', { ...sketchOf([5]).toJSON(), bins: [-1] }, '/bins/0', /weight/],
    ['a bad offset', { ...sketchOf([5]).toJSON(), offset: 1.5 }, '/offset', /offset/],
    [
      'too many bins',
      { ...sketchOf([5]).toJSON(), offset: 600, bins: new Array(40).fill(1) },
      '/bins',
      /bins/,
    ],
    ['min above max', { ...sketchOf([5, 9]).toJSON(), min: 10 }, '/min', /min/],
    ['a missing count', { ...sketchOf([5]).toJSON(), count: undefined }, '/count', /missing/],
  ])('names what is wrong in its JSON: %s', (_name, json, pointer, message) => {
    let error: unknown;
    try {
      DurationSketch.fromJSON(json);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('SCHEMA');
    expect((error as ValidationError).issues[0]?.pointer).toBe(pointer);
    expect((error as Error).message).toMatch(message);
  });
});
