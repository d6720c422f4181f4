import { describe, expect, it } from 'vitest';
import { compare, formatValue, measure, percentile, row, table } from '../src/harness.js';

describe('percentile', () => {
  it('interpolates between closest ranks', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([4, 1, 3, 2], 0)).toBe(1);
    expect(percentile([4, 1, 3, 2], 100)).toBe(4);
    expect(percentile([10, 20, 30, 40, 50], 95)).toBeCloseTo(48);
    expect(percentile([7], 99)).toBe(7);
  });

  it('leaves its input alone', () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });

  it('is NaN for no values and refuses a p outside 0..100', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

describe('row', () => {
  it('fills target and met from atMost and atLeast', () => {
    expect(row('b', 'm', 0.3, '×', { atMost: 0.5 })).toEqual({
      bench: 'b',
      metric: 'm',
      value: 0.3,
      unit: '×',
      target: '≤ 0.5',
      met: true,
    });
    expect(row('b', 'm', 0.6, '×', { atMost: 0.5 }).met).toBe(false);
    expect(row('b', 'm', 9, 'x', { atLeast: 10 })).toMatchObject({ target: '≥ 10', met: false });
    expect(row('b', 'm', 10, 'x', { atLeast: 10 }).met).toBe(true);
  });

  it('has neither target nor met without a goal', () => {
    expect(row('b', 'm', 1, 'ms')).toEqual({ bench: 'b', metric: 'm', value: 1, unit: 'ms' });
  });
});

describe('table', () => {
  const text = table([
    row('schema', 'overhead', 0.1234, '×', { atMost: 0.5 }),
    row('rx', 'requests per job', 12345.6, 'req'),
    row('daemon', 'p95 lag', 130, 'ms', { atMost: 100 }),
  ]);
  const lines = text.split('\n');

  it('has a header, a rule and one line per row', () => {
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^bench\s+\| metric\s+\|\s+value \| unit \| target \| met$/);
    expect(lines[1]).toMatch(/^-+(-\|-+)+$/);
  });

  it('aligns the columns', () => {
    const bars = (line: string) => [...line].flatMap((c, i) => (c === '|' ? [i] : []));
    const header = bars(lines[0]!);
    for (const line of lines.slice(2)) expect(bars(line).slice(0, 4)).toEqual(header.slice(0, 4));
  });

  it('right-aligns values and marks met and missed targets', () => {
    expect(lines[2]).toContain('|  0.123 |');
    expect(lines[3]).toContain('| 12,346 |');
    expect(lines[2]).toMatch(/\| yes$/);
    expect(lines[4]).toMatch(/\| NO$/);
    expect(lines[3]).not.toMatch(/yes|NO/);
  });
});

describe('formatValue', () => {
  it.each([
    [0, '0.00'],
    [0.000123456, '0.000123'],
    [1.5, '1.50'],
    [123.45, '123.5'],
    [1234567.8, '1,234,568'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
  ])('%d → %s', (value, text) => {
    expect(formatValue(value)).toBe(text);
  });
});

describe('measure and compare', () => {
  it('takes the samples asked for, and runs the function that often', () => {
    let calls = 0;
    const m = measure(() => calls++, { iterations: 10, samples: 4, warmup: 5 });
    expect(m.samples).toHaveLength(4);
    expect(calls).toBe(45);
    for (const s of m.samples) expect(s).toBeGreaterThanOrEqual(0);
    expect(m.minNsPerOp).toBeLessThanOrEqual(m.nsPerOp);
  });

  it('interleaves the variants and reports each', () => {
    const order: string[] = [];
    const t = compare(
      { a: () => order.push('a'), b: () => order.push('b') },
      { iterations: 1, samples: 3, warmup: 0 },
    );
    expect(order).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    expect(Object.keys(t)).toEqual(['a', 'b']);
    expect(t.a.samples).toHaveLength(3);
  });

  it('refuses counts that are not positive integers', () => {
    expect(() => measure(() => 0, { iterations: 0 })).toThrow(RangeError);
    expect(() => compare({ a: () => 0 }, { samples: 1.5 })).toThrow(RangeError);
  });
});
