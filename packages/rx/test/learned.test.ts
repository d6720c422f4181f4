import { ConfigError } from '@jobwatch/client';
import type { Job, Snapshot } from '@jobwatch/schema';
import fc from 'fast-check';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  createWatcher,
  DEFAULT_PACING,
  DurationModel,
  denseStart,
  type JobKind,
  learnedPollDelay,
  makeEta,
  nextPollDelay,
  readEta,
  resolvePacing,
} from '../src/index.js';
import { FakeServer } from './fake.js';

const KIND: JobKind = {
  source: 'admin',
  deployment: 'default',
  operation: 'services/roads.mapserver/edit',
};
const EPOCH = 1_767_225_600_000;
const noJitter = resolvePacing({ jitter: 0 });

/** A model that has seen `n` jobs of KIND, taking 50–70 s (evenly spread). */
function modelWith(n: number, low = 50_000, high = 70_000): DurationModel {
  const model = new DurationModel();
  for (let i = 0; i < n; i++) model.observe(KIND, low + ((high - low) * i) / Math.max(1, n - 1));
  return model;
}

/** Ages of the polls of one job that never ends, under a delay function, up to `until`. */
function schedule(delay: (age: number) => number, until: number): number[] {
  const polls = [0];
  while (polls.at(-1)! < until) polls.push(polls.at(-1)! + delay(polls.at(-1)!));
  return polls;
}

describe('learned pacing (pure)', () => {
  const estimate = modelWith(40).estimate(KIND)!;
  const start = denseStart(noJitter, estimate);
  const end = estimate.quantile(DEFAULT_PACING.learned.to);

  it('documents its defaults', () => {
    expect(DEFAULT_PACING.learned).toEqual({
      lagShare: 0.05,
      startChance: 0.011,
      to: 0.995,
      sparseShare: 0.5,
      maxInterval: 600_000,
    });
  });

  it('goes sparse while the job is surely still running, landing on the likely end', () => {
    expect(start).toBeGreaterThan(40_000);
    expect(start).toBeLessThan(estimate.quantile(0.1));
    const polls = schedule((a) => learnedPollDelay(noJitter, estimate, a, a), start);
    // The first poll, one halfway, then the start of the likely end: age pacing needs 26.
    expect(polls.filter((a) => a < start)).toEqual([0, start / 2]);
    expect(polls.at(-1)).toBeCloseTo(start, 6);
    expect(schedule((a) => nextPollDelay(noJitter, a, a), start).length).toBeGreaterThan(20);
  });

  it('sees an end anywhere in the likely window within max(1 s, 5% of the duration)', () => {
    const polls = schedule((a) => learnedPollDelay(resolvePacing(), estimate, a, a), end * 1.2);
    fc.assert(
      fc.property(fc.double({ min: start, max: end, noNaN: true }), (duration) => {
        const seen = polls.find((t) => t >= duration)!;
        expect(seen - duration).toBeLessThanOrEqual(Math.max(1000, 0.05 * duration) + 1e-6);
      }),
    );
  });

  it('falls back to exactly age pacing past the upper quantiles', () => {
    for (const age of [end, end * 1.5, end * 10]) {
      for (const since of [0, 500, age]) {
        const r = resolvePacing({ random: () => 0.3 });
        expect(learnedPollDelay(r, estimate, age, since)).toBe(nextPollDelay(r, age, since));
      }
    }
  });

  it('starts the dense window later in the spread of a wide kind than of a narrow one', () => {
    const narrow = modelWith(40, 58_000, 62_000).estimate(KIND)!;
    const wide = modelWith(40, 20_000, 180_000).estimate(KIND)!;
    expect(narrow.share(denseStart(noJitter, narrow))).toBeLessThan(
      wide.share(denseStart(noJitter, wide)),
    );
  });

  it.each([
    ['a negative lag share', { lagShare: -0.05 }, /lagShare/],
    ['a start chance of 1', { startChance: 1 }, /startChance/],
    ['an upper quantile below the median', { to: 0.4 }, /learned\.to/],
    ['a zero sparse share', { sparseShare: 0 }, /sparseShare/],
  ])('refuses %s with a ConfigError', (_name, learned, message) => {
    expect(() => resolvePacing({ learned })).toThrow(ConfigError);
    expect(() => resolvePacing({ learned })).toThrow(message);
  });
});

const ID = 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d';

/** A job EXECUTING from virtual time 0 until `duration`, then `final`, with server times set. */
function running(duration: number, final = 'COMPLETED', starttime = EPOCH) {
  return (time: number): Job => {
    const ended = time >= duration;
    return {
      jobid: ID,
      status: ended ? final : 'EXECUTING',
      starttime,
      endtime: ended ? starttime + duration : 0,
      updatedtime: starttime + (ended ? duration : 0),
      operationURI: '/arcgis/admin/services/Roads.MapServer/edit',
      username: 'admin',
    };
  };
}

function watchOnce(script: (t: number) => Job, model?: DurationModel, first?: (t: number) => Job) {
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  scheduler.maxFrames = Number.POSITIVE_INFINITY;
  const server = new FakeServer(scheduler);
  const watcher = createWatcher(server.client, {
    scheduler,
    pacing: { jitter: 0 },
    ...(model ? { model } : {}),
  });
  let done = -1;
  const seen: Array<{ at: number; snapshot: Snapshot }> = [];
  scheduler.run(() => {
    server.scripts.set(ID, first ? (t, n) => (n === 1 ? first(t) : script(t)) : script);
    watcher.watch(ID).subscribe({
      next: (snapshot) => seen.push({ at: scheduler.now(), snapshot }),
      complete: () => (done = scheduler.now()),
    });
    scheduler.flush();
  });
  return { polls: server.callsFor(ID).map((c) => c.start), done, seen };
}

describe('learned pacing (watching)', () => {
  it('paces exactly by age while the kind has too little history', () => {
    const without = watchOnce(running(61_000));
    const thin = watchOnce(running(61_000), modelWith(9));
    expect(thin.polls).toEqual(without.polls);
  });

  it('learns each job it saw run and end COMPLETED, by the server clock', () => {
    const model = new DurationModel();
    watchOnce(running(61_000), model);
    expect(model.samples(KIND)).toBe(1);
    expect(model.estimate(KIND)).toBeUndefined();
    expect(new DurationModel().samples(KIND)).toBe(0);
    const json = model.toJSON().kinds[0]!;
    expect(json.sketch.min).toBe(61_000);
  });

  it.each([
    ['ended FAILED', running(5000, 'FAILED'), false],
    ['was already over when first seen', running(5000), true],
    ['has no start time', running(5000, 'COMPLETED', 0), false],
  ])('learns nothing from a job that %s', (_name, script, first) => {
    const model = new DurationModel();
    watchOnce(script, model, first ? running(0) : undefined);
    expect(model.samples(KIND)).toBe(0);
  });

  it('with history, polls a job a fraction as often and still sees its end within 5%', () => {
    const model = modelWith(30);
    const learned = watchOnce(running(61_000), model);
    const byAge = watchOnce(running(61_000));
    expect(learned.polls.length).toBeLessThan(byAge.polls.length / 2);
    expect(learned.done - 61_000).toBeLessThanOrEqual(0.05 * 61_000);
    // And it learned this one too.
    expect(model.samples(KIND)).toBe(31);
  });

  it('still sees a job that runs far longer than ever before within 10% of its age', () => {
    const long = watchOnce(running(400_000), modelWith(30));
    expect(long.done - 400_000).toBeLessThanOrEqual(0.1 * 400_000);
  });
});

describe('eta', () => {
  it('is on the snapshots of a running job whose kind has a basis, and nowhere else', () => {
    const { seen } = watchOnce(running(61_000), modelWith(30));
    const first = seen[0]!.snapshot;
    expect(first.eta).toMatchObject({ basis: 30, overdue: false });
    const eta = first.eta!;
    // Times on the watcher's clock (virtual time 0 here): the median of 50–70 s from now.
    expect(eta.middle).toBeGreaterThan(55_000);
    expect(eta.middle).toBeLessThan(65_000);
    expect(eta.low).toBeLessThanOrEqual(eta.middle);
    expect(eta.high).toBeGreaterThanOrEqual(eta.middle);
    expect(seen.at(-1)!.snapshot.terminal).toBe(true);
    expect(seen.at(-1)!.snapshot.eta).toBeUndefined();
    expect(watchOnce(running(61_000)).seen[0]!.snapshot.eta).toBeUndefined();
    expect(watchOnce(running(61_000), modelWith(9)).seen[0]!.snapshot.eta).toBeUndefined();
  });

  it('says overdue, in a snapshot of its own, once the job runs longer than usual', () => {
    const { seen } = watchOnce(running(200_000), modelWith(30));
    const turned = seen.find((s) => s.snapshot.eta?.overdue);
    expect(turned).toBeDefined();
    expect(turned!.snapshot.status).toBe('EXECUTING');
    // Past the 90th percentile of 50–70 s (68 s), by at most one dense wait.
    expect(turned!.at).toBeGreaterThan(68_000);
    expect(turned!.at).toBeLessThan(68_000 * 1.06);
    expect(seen.filter((s) => s.snapshot.status === 'EXECUTING')).toHaveLength(2);
  });

  it('is read as time left, never negative, and overdue once past its interval', () => {
    const estimate = modelWith(30).estimate(KIND)!;
    const eta = makeEta(estimate, 10_000, 1_000_000);
    const at = (now: number) => readEta(eta, now);
    expect(at(1_000_000)).toMatchObject({ overdue: false, basis: 30 });
    expect(at(1_000_000).left).toBe(eta.middle - 1_000_000);
    expect(at(eta.middle + 1000)).toMatchObject({ left: 0, low: 0, overdue: false });
    expect(at(eta.high + 1)).toMatchObject({ left: 0, low: 0, high: 0, overdue: true });
    expect(readEta(makeEta(estimate, 500_000, 0), 0).overdue).toBe(true);
  });

  it('stays off a job being cancelled: its kind says nothing about that', () => {
    const cancelling = (time: number): Job => ({
      ...running(61_000)(time),
      status: time >= 61_000 ? 'CANCELLED' : time >= 20_000 ? 'CANCELLING' : 'EXECUTING',
    });
    const { seen } = watchOnce(cancelling, modelWith(30));
    expect(seen[0]!.snapshot.eta).toBeDefined();
    const later = seen.find((s) => s.snapshot.status === 'CANCELLING')!;
    expect(later.snapshot.eta).toBeUndefined();
  });
});
