import { ConfigError, ValidationError } from '@jobwatch/client';
import { createRandom } from '@jobwatch/simulator';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  adminJobKind,
  DurationModel,
  type JobKind,
  jobKindKey,
  normalCdf,
  normalQuantile,
  parseJobKindKey,
} from '../src/index.js';

const EDIT: JobKind = {
  source: 'admin',
  deployment: 'prod',
  operation: 'services/roads.mapserver/edit',
};
const STOP: JobKind = { ...EDIT, operation: 'services/roads.mapserver/stop' };

/** Log-normal durations from a seeded generator. */
function lognormal(seed: number, median: number, sigma: number) {
  const random = createRandom(seed, 'model-test');
  return () => {
    const u = 1 - random();
    const v = random();
    return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  };
}

describe('job kinds', () => {
  it('reads an admin job kind from its operationURI: deployment, service, operation', () => {
    expect(
      adminJobKind('prod', { operationURI: '/arcgis/admin/services/Hydro/Roads.MapServer/edit' }),
    ).toEqual({
      source: 'admin',
      deployment: 'prod',
      operation: 'services/hydro/roads.mapserver/edit',
    });
    // Case does not make another kind; ids in the path do not make every job its own kind.
    expect(
      jobKindKey(
        adminJobKind('prod', { operationURI: '/arcgis/admin/services/ROADS.MapServer/edit' })!,
      ),
    ).toBe(jobKindKey({ ...EDIT }));
    expect(
      adminJobKind('lab', {
        operationURI:
          '/ctx/admin/system/disasterrecovery/stores/s3/backups/j2bcbcd49-83a4-4cc1-a034-40e4a266e96d/restore',
      })?.operation,
    ).toBe('system/disasterrecovery/stores/s3/backups/*/restore');
  });

  it.each([
    ['no operationURI', {}],
    ['an empty one', { operationURI: '  ' }],
    ['one that is not a string', { operationURI: 42 }],
    ['a bare admin root', { operationURI: '/arcgis/admin/' }],
  ])('has no kind for a job with %s (it is not learned from)', (_name, job) => {
    expect(adminJobKind('prod', job)).toBeUndefined();
  });

  it('keeps the parts of a key apart whatever they hold', () => {
    const part = fc.string({ minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(part, part, part, (source, deployment, operation) => {
        const kind = { source, deployment, operation };
        expect(parseJobKindKey(jobKindKey(kind))).toEqual(kind);
      }),
    );
    expect(parseJobKindKey('nonsense')).toBeUndefined();
  });
});

describe('normal helpers', () => {
  it('inverts one another', () => {
    for (const p of [0.001, 0.02, 0.1, 0.5, 0.9, 0.98, 0.999]) {
      expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 6);
    }
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
  });
});

describe('DurationModel', () => {
  it('has no estimate until a kind has minSamples earlier jobs', () => {
    const model = new DurationModel({ minSamples: 10 });
    for (let i = 0; i < 9; i++) model.observe(EDIT, 40_000 + i * 1000);
    expect(model.estimate(EDIT)).toBeUndefined();
    expect(model.samples(EDIT)).toBe(9);
    model.observe(EDIT, 45_000);
    const e = model.estimate(EDIT)!;
    expect(e.samples).toBe(10);
    expect(e.quantile(0.5)).toBeGreaterThan(43_000);
    expect(e.quantile(0.5)).toBeLessThan(46_000);
    // Other kinds know nothing from it.
    expect(model.estimate(STOP)).toBeUndefined();
  });

  it('its 80% interval holds the next duration about 80% of the time, even from 10 jobs', () => {
    // 400 histories of 10 log-normal durations each, and the job after each: a fixed draw.
    let inside = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const draw = lognormal(t, 60_000, 0.6);
      const model = new DurationModel();
      for (let i = 0; i < 10; i++) model.observe(EDIT, draw());
      const e = model.estimate(EDIT)!;
      const next = draw();
      if (next >= e.quantile(0.1) && next <= e.quantile(0.9)) inside++;
    }
    expect(inside / trials).toBeGreaterThan(0.74);
    expect(inside / trials).toBeLessThan(0.86);
  });

  it('extends its tails past the durations seen, so a short history does not claim certainty', () => {
    const model = new DurationModel();
    const draw = lognormal(7, 60_000, 0.5);
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      const d = draw();
      seen.push(d);
      model.observe(EDIT, d);
    }
    const e = model.estimate(EDIT)!;
    expect(e.quantile(0.02)).toBeLessThan(Math.min(...seen));
    expect(e.quantile(0.98)).toBeGreaterThan(Math.max(...seen));
    expect(e.quantile(0)).toBe(0);
    expect(e.quantile(1)).toBe(Number.POSITIVE_INFINITY);
  });

  it('share and quantile are inverses, and what is left is never negative', () => {
    const model = new DurationModel();
    const draw = lognormal(3, 30_000, 0.8);
    for (let i = 0; i < 60; i++) model.observe(EDIT, draw());
    const e = model.estimate(EDIT)!;
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 0.999, noNaN: true }), (p) => {
        // Several earlier jobs can share a value: the share reaches past p there.
        expect(e.share(e.quantile(p))).toBeGreaterThanOrEqual(p - 1e-6);
        const x = e.quantile(p);
        expect(Math.abs(e.quantile(e.share(x)) - x)).toBeLessThanOrEqual(1e-4 * x);
      }),
    );
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e8, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (age, q) => {
          expect(e.remaining(age, q)).toBeGreaterThanOrEqual(0);
        },
      ),
    );
    // At the start, what is left is the whole duration; as the job runs on, its likely end
    // never moves earlier, and something is always left.
    expect(e.remaining(0, 0.5)).toBeCloseTo(e.quantile(0.5), 6);
    let end = 0;
    for (let age = 0; age < 10 * e.quantile(0.99); age += 997) {
      const next = age + e.remaining(age, 0.5);
      expect(next).toBeGreaterThanOrEqual(end - 1e-6 * end);
      expect(next).toBeGreaterThan(age);
      end = next;
    }
  });

  it('forgets the kind updated longest ago past maxKinds', () => {
    let now = 0;
    const model = new DurationModel({ maxKinds: 2, now: () => ++now });
    model.observe(EDIT, 1000);
    model.observe(STOP, 1000);
    model.observe(EDIT, 1000);
    model.observe({ ...EDIT, deployment: 'lab' }, 1000);
    expect(model.size).toBe(2);
    expect(model.samples(STOP)).toBe(0);
    expect(model.samples(EDIT)).toBe(2);
  });

  it('survives JSON, and says what it knows in figures for people', () => {
    const model = new DurationModel({ now: () => 1_700_000_000_000 });
    for (const d of [40_000, 42_000, 50_000, 61_000]) model.observe(EDIT, d);
    model.observe(STOP, 3000);
    const json = model.toJSON({ summary: true });
    expect(json.kinds[0]).toMatchObject({
      ...EDIT,
      updatedAt: 1_700_000_000_000,
      summary: { samples: 4, p10: 40_000, p90: 61_000 },
    });
    const back = DurationModel.fromJSON(JSON.parse(JSON.stringify(json)));
    expect(back.toJSON()).toEqual(model.toJSON());
  });

  it('merges what was learned elsewhere, kind by kind', () => {
    const a = new DurationModel();
    const b = new DurationModel();
    a.observe(EDIT, 1000);
    b.observe(EDIT, 2000);
    b.observe(STOP, 3000);
    a.merge(b);
    expect(a.samples(EDIT)).toBe(2);
    expect(a.samples(STOP)).toBe(1);
    expect(b.samples(EDIT)).toBe(1);
  });

  it('tells its listeners about every change, and one that throws stops nobody', () => {
    const model = new DurationModel();
    const heard: string[] = [];
    model.subscribe(() => {
      throw new Error('listener trouble');
    });
    const stop = model.subscribe((c) => heard.push(`${c.key} ${c.sketch.count}`));
    model.observe(EDIT, 1000);
    model.observe(EDIT, 1000);
    stop();
    model.observe(EDIT, 1000);
    expect(heard).toEqual([`${jobKindKey(EDIT)} 1`, `${jobKindKey(EDIT)} 2`]);
  });

  it.each([
    ['maxKinds of 0', { maxKinds: 0 }, /maxKinds/],
    ['minSamples of 1.5', { minSamples: 1.5 }, /minSamples/],
    ['a window of 0', { window: 0 }, /window/],
  ])('refuses %s with a ConfigError', (_name, options, message) => {
    expect(() => new DurationModel(options)).toThrow(ConfigError);
    expect(() => new DurationModel(options)).toThrow(message);
  });

  it('refuses a bad duration and keeps what it knew', () => {
    const model = new DurationModel();
    model.observe(EDIT, 1000);
    expect(() => model.observe(EDIT, -1)).toThrow(ConfigError);
    expect(model.samples(EDIT)).toBe(1);
  });

  it.each([
    ['not an object', [], '', /expected an object/],
    ['another version', { version: 2, relativeAccuracy: 0.02, kinds: [] }, '/version', /version/],
    [
      'another accuracy',
      { version: 1, relativeAccuracy: 0.01, kinds: [] },
      '/relativeAccuracy',
      /0\.02/,
    ],
    ['no kinds', { version: 1, relativeAccuracy: 0.02 }, '/kinds', /array/],
    [
      'a kind without operation',
      {
        version: 1,
        relativeAccuracy: 0.02,
        kinds: [
          {
            source: 'admin',
            deployment: 'x',
            updatedAt: 1,
            sketch: { count: 0, weight: 0, min: 0, max: 0, offset: 0, bins: [] },
          },
        ],
      },
      '/kinds/0/operation',
      /durationModel\.kinds\[0\]\.operation/,
    ],
    [
      'a broken sketch',
      {
        version: 1,
        relativeAccuracy: 0.02,
        kinds: [
          {
            ...EDIT,
            updatedAt: 1,
            sketch: { count: 1, weight: 1, min: 5, max: 5, offset: 40, bins: ['x'] },
          },
        ],
      },
      '/kinds/0/sketch/bins/0',
      /durationModel\.kinds\[0\]\.sketch\.bins\[0\]: expected a weight ≥ 0, got "x"/,
    ],
  ])('names what is wrong in its JSON: %s', (_name, json, pointer, message) => {
    let error: unknown;
    try {
      DurationModel.fromJSON(json);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.pointer)).toContain(pointer);
    expect((error as Error).message).toMatch(message);
  });
});
