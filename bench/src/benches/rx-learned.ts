/**
 * Issue 17: pacing that learns from history, in virtual time.
 *
 * Workload: 20 kinds of job (one service edit each), with log-normal durations — medians
 * spaced evenly on a log scale from 5 s to 30 min, spreads σ from 0.3 to 1.0 dealt out at
 * random among them — and 2,000 jobs of random kinds arriving one after another (on
 * average every 30 s, so they overlap), each EXECUTING from its start until it ends
 * COMPLETED. Everything is drawn from the simulator's seeded generator: every run sees the
 * same jobs.
 *
 * Compared in one run, on the same jobs:
 * - fixed 2 s (arcgis-rest-js) and fixed 1 s (the Maps SDK) pollers;
 * - jobwatch's age pacing: `createWatcher` without a model;
 * - jobwatch's learned pacing: `createWatcher` with a `DurationModel` that starts empty and
 *   learns online, from each job that ends, in arrival order;
 * - the oracle: the same learned pacing fed each kind's true log-normal instead of a
 *   learned history (what learning could at best reach with this pacing);
 * - the hindsight optimum: a poller that knows each job's end polls at its start and at
 *   its end: 2 requests, no lag.
 * The watchers run for real on a `VirtualTimeScheduler`, answered by an in-memory server
 * that settles on the virtual clock.
 *
 * Figures, separately for cold jobs (fewer than 10 earlier jobs of the kind had ended when
 * the job arrived) and warm ones (10 or more): requests against the fixed 2 s poller on
 * the same jobs; the lag between a job's end and jobwatch's terminal snapshot, absolute
 * and against max(1 s, 5 % of the job's duration); the share of warm jobs whose first
 * snapshot's `eta` 80 % interval held the real end (calibration); bins, JSON and heap per
 * kind. Targets (warm, learned pacing): ≤ 0.1× the fixed 2 s poller's requests, p95 of lag
 * ÷ max(1 s, 5 % of duration) ≤ 1, calibration between 0.75 and 0.85.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { AdminClient } from '@jobwatch/client';
import {
  createWatcher,
  DurationModel,
  type JobKind,
  learnedPollDelay,
  normalQuantile,
  resolvePacing,
} from '@jobwatch/rx';
import type { Job, Snapshot } from '@jobwatch/schema';
import { createRandom } from '@jobwatch/simulator';
import { VirtualTimeScheduler } from 'rxjs';
import { type Benchmark, type BenchRow, percentile, row } from '../harness.js';

const NAME = 'rx-learned';
const KINDS = 20;
const JOBS = 2000;
const WARM = 10;
const MEAN_ARRIVAL = 30_000;
/** Server times are epoch ms; the virtual clock starts at 0. */
const EPOCH = 1_767_225_600_000;
const DEPLOYMENT = 'bench';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const seeded = (seed: number) => createRandom(seed, NAME);

interface Kind {
  readonly index: number;
  readonly median: number;
  readonly sigma: number;
  readonly uri: string;
}

interface SimJob {
  readonly id: string;
  readonly kind: Kind;
  readonly arrival: number;
  readonly duration: number;
  /** Earlier jobs of its kind that had ended when it arrived. */
  readonly history: number;
}

function gaussian(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function makeWorkload(random: () => number): { kinds: Kind[]; jobs: SimJob[] } {
  const sigmas = Array.from({ length: KINDS }, (_, i) => 0.3 + (0.7 * i) / (KINDS - 1));
  for (let i = sigmas.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [sigmas[i], sigmas[j]] = [sigmas[j]!, sigmas[i]!];
  }
  const kinds = sigmas.map((sigma, index) => ({
    index,
    median: 5_000 * (360 ** (1 / (KINDS - 1))) ** index,
    sigma,
    uri: `/arcgis/admin/services/Svc${index}.MapServer/edit`,
  }));
  const jobs: SimJob[] = [];
  const ends: number[][] = kinds.map(() => []);
  let t = 0;
  for (let i = 0; i < JOBS; i++) {
    t += Math.round(-MEAN_ARRIVAL * Math.log(1 - random()));
    const kind = kinds[Math.floor(random() * KINDS)]!;
    const duration = Math.max(1, Math.round(kind.median * Math.exp(kind.sigma * gaussian(random))));
    const history = ends[kind.index]!.filter((end) => end <= t).length;
    ends[kind.index]!.push(t + duration);
    jobs.push({ id: `j${i.toString(16).padStart(32, '0')}`, kind, arrival: t, duration, history });
  }
  return { kinds, jobs };
}

/** The job's body at virtual time `t`. */
function bodyAt(job: SimJob, t: number): Job {
  const ended = t - job.arrival >= job.duration;
  return {
    jobid: job.id,
    status: ended ? 'COMPLETED' : 'EXECUTING',
    starttime: EPOCH + job.arrival,
    endtime: ended ? EPOCH + job.arrival + job.duration : 0,
    updatedtime: EPOCH + job.arrival + (ended ? job.duration : 0),
    operationURI: job.kind.uri,
    username: 'admin',
  };
}

interface PerJob {
  requests: number;
  /** ms from the job's end until it was seen; NaN if never. */
  lag: number;
  /** Whether the first snapshot's 80 % interval held the end; undefined without an eta. */
  inside?: boolean;
}

/** A hand-written poller: polls at the start, then every `interval` ms. */
function fixed(jobs: readonly SimJob[], interval: number): PerJob[] {
  return jobs.map((job) => {
    const polls = Math.ceil(job.duration / interval);
    return { requests: polls + 1, lag: polls * interval - job.duration };
  });
}

/** jobwatch itself in virtual time, with or without a model. */
function jobwatch(
  jobs: readonly SimJob[],
  random: () => number,
  model: DurationModel | undefined,
): PerJob[] {
  const scheduler = new VirtualTimeScheduler();
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const out = new Map<string, PerJob>(jobs.map((j) => [j.id, { requests: 0, lag: Number.NaN }]));
  const client = {
    url: 'http://virtual/arcgis/admin',
    getJob(jobid: string): PromiseLike<Job> {
      out.get(jobid)!.requests++;
      return {
        // biome-ignore lint/suspicious/noThenProperty: settles synchronously on the virtual clock
        then(ok) {
          ok?.(bodyAt(byId.get(jobid)!, scheduler.now()));
          return undefined as never;
        },
      };
    },
  } as unknown as AdminClient;
  const watcher = createWatcher(client, {
    deployment: DEPLOYMENT,
    scheduler,
    budget: { concurrency: 1_000_000, rate: Number.POSITIVE_INFINITY },
    pacing: { random },
    ...(model ? { model } : {}),
  });
  for (const job of jobs) {
    scheduler.schedule(() => {
      let first = true;
      const result = out.get(job.id)!;
      watcher.watch(job.id).subscribe((s: Snapshot) => {
        if (first) {
          first = false;
          // The eta is on the watcher's clock (virtual time here).
          if (s.eta && !s.terminal) {
            const end = job.arrival + job.duration;
            result.inside = end >= s.eta.low && end <= s.eta.high;
          }
        }
        if (s.terminal) result.lag = scheduler.now() - (job.arrival + job.duration);
      });
    }, job.arrival);
  }
  scheduler.flush();
  return jobs.map((j) => out.get(j.id)!);
}

/** Learned pacing fed each kind's true distribution, simulated poll by poll. */
function oracle(jobs: readonly SimJob[], random: () => number): PerJob[] {
  const pacing = resolvePacing({ random });
  const truths = new Map(
    [...new Set(jobs.map((j) => j.kind))].map((kind) => [
      kind,
      {
        quantile: (p: number) => kind.median * Math.exp(kind.sigma * normalQuantile(p)),
        logSpread: kind.sigma,
      },
    ]),
  );
  return jobs.map((job) => {
    const truth = truths.get(job.kind)!;
    let t = 0;
    let requests = 1;
    while (t < job.duration) {
      t += learnedPollDelay(pacing, truth, t, t);
      requests++;
    }
    return { requests, lag: t - job.duration };
  });
}

/**
 * A lower bound on the requests of any poller that paces all jobs of a kind alike — as any
 * poller that knows a kind's history but not the job's own end must — and sees at least
 * `share` of the given jobs' ends within max(1 s, 5 % of their duration): the best schedule
 * of the shape "poll at the start, once at a per-kind age s, then every max(1 s, 5 % of
 * the age)" chosen per kind *knowing these jobs' durations in hindsight*. Polls in that
 * dense run are as far apart as catching every end after s in time allows, and a poll
 * before s can catch in time only ends just before it, so no schedule of another shape
 * does much better. For a price λ per end missed, each kind picks its best s; a bisection
 * on λ meets `share`; every λ also gives the lower bound min + λ·allowed.
 */
function perKindBound(jobs: readonly SimJob[], share: number): { requests: number; lower: number } {
  const byKind = new Map<Kind, number[]>();
  for (const j of jobs) byKind.set(j.kind, [...(byKind.get(j.kind) ?? []), j.duration]);
  // For each kind and candidate start: [requests, misses].
  const options = [...byKind.values()].map((durations) => {
    const longest = Math.max(...durations);
    const out: Array<[number, number]> = [];
    for (let s = 200; s <= longest * 1.01; s *= 1.01) {
      const grid = [s];
      while (grid.at(-1)! < longest) grid.push(grid.at(-1)! + Math.max(1000, 0.05 * grid.at(-1)!));
      let requests = 0;
      let misses = 0;
      for (const d of durations) {
        let k = 0;
        while (grid[k]! < d) k++;
        requests += 2 + k;
        if (grid[k]! - d > Math.max(1000, 0.05 * d)) misses++;
      }
      out.push([requests, misses]);
    }
    return out;
  });
  const allowed = Math.floor((1 - share) * jobs.length);
  const plan = (price: number) => {
    let cost = 0;
    let requests = 0;
    let misses = 0;
    for (const opts of options) {
      let best = opts[0]!;
      for (const o of opts) if (o[0] + price * o[1] < best[0] + price * best[1]) best = o;
      cost += best[0] + price * best[1];
      requests += best[0];
      misses += best[1];
    }
    return { cost, requests, misses };
  };
  let lo = 0;
  let hi = 10_000;
  let requests = plan(hi).requests;
  let lower = 0;
  for (let i = 0; i < 50; i++) {
    const price = (lo + hi) / 2;
    const r = plan(price);
    lower = Math.max(lower, r.cost - price * allowed);
    if (r.misses <= allowed) {
      hi = price;
      requests = r.requests;
    } else lo = price;
  }
  return { requests, lower: Math.min(lower, requests) };
}

interface Summary {
  requests: number;
  lagP50: number;
  lagP95: number;
  allowanceP95: number;
  jobs: number;
}

function summarise(
  jobs: readonly SimJob[],
  results: readonly PerJob[],
  keep: (j: SimJob) => boolean,
): Summary {
  let requests = 0;
  const lags: number[] = [];
  const allowance: number[] = [];
  let n = 0;
  jobs.forEach((job, i) => {
    if (!keep(job)) return;
    const r = results[i]!;
    n++;
    requests += r.requests;
    const lag = Number.isNaN(r.lag) ? Number.POSITIVE_INFINITY : r.lag;
    lags.push(lag / 1000);
    allowance.push(lag / Math.max(1000, 0.05 * job.duration));
  });
  return {
    requests,
    lagP50: percentile(lags, 50),
    lagP95: percentile(lags, 95),
    allowanceP95: percentile(allowance, 95),
    jobs: n,
  };
}

/** Heap per kind: 1,000 kinds of 100 durations each (σ = 1, the widest spread here). */
function heapPerKind(): number {
  const random = seeded(99);
  const build = () => {
    const model = new DurationModel({ maxKinds: 1000 });
    for (let k = 0; k < 1000; k++) {
      const kind: JobKind = {
        source: 'admin',
        deployment: 'prod',
        operation: `services/s${k}.mapserver/edit`,
      };
      for (let i = 0; i < 100; i++) model.observe(kind, 60_000 * Math.exp(gaussian(random)));
    }
    return model;
  };
  const samples: number[] = [];
  for (let run = 0; run < 3; run++) {
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    let model: DurationModel | undefined = build();
    gc();
    gc();
    const after = process.memoryUsage().heapUsed;
    samples.push((after - before) / model.size);
    model = undefined;
  }
  return percentile(samples, 50);
}

const bench: Benchmark = {
  name: NAME,
  issue: 17,
  async run() {
    // Virtual time: the full size is cheap, so both modes run it.
    const { jobs } = makeWorkload(seeded(17));
    const model = new DurationModel();
    const runs = {
      'fixed 2 s': fixed(jobs, 2000),
      'fixed 1 s': fixed(jobs, 1000),
      'age pacing': jobwatch(jobs, seeded(171), undefined),
      learned: jobwatch(jobs, seeded(172), model),
      oracle: oracle(jobs, seeded(173)),
      'hindsight optimum': jobs.map(() => ({ requests: 2, lag: 0 })),
    };
    const warm = (j: SimJob) => j.history >= WARM;
    const cold = (j: SimJob) => j.history < WARM;
    const rows: BenchRow[] = [];
    for (const [label, keep] of [
      ['warm', warm],
      ['cold', cold],
    ] as const) {
      const base = summarise(jobs, runs['fixed 2 s'], keep);
      rows.push(row(NAME, `${label}: jobs`, base.jobs, 'jobs'));
      for (const [name, results] of Object.entries(runs)) {
        const s = summarise(jobs, results, keep);
        const target = name === 'learned' && label === 'warm';
        rows.push(
          row(NAME, `${label}, ${name}: requests per job`, s.requests / s.jobs, 'req'),
          row(
            NAME,
            `${label}, ${name}: requests vs fixed 2 s`,
            s.requests / base.requests,
            '×',
            target ? { atMost: 0.1 } : undefined,
          ),
          row(NAME, `${label}, ${name}: end lag p50`, s.lagP50, 's'),
          row(NAME, `${label}, ${name}: end lag p95`, s.lagP95, 's'),
          row(
            NAME,
            `${label}, ${name}: p95 lag ÷ max(1 s, 5% duration)`,
            s.allowanceP95,
            '×',
            target ? { atMost: 1 } : undefined,
          ),
        );
      }
    }
    const warmJobs = jobs.filter(warm);
    const fixedWarm = summarise(jobs, runs['fixed 2 s'], warm).requests;
    const bound = perKindBound(warmJobs, 0.95);
    const learnedWarm = summarise(jobs, runs.learned, warm).requests;
    rows.push(
      row(
        NAME,
        'bound: per-kind schedule in hindsight, p95 target, vs fixed 2 s (lower bound)',
        bound.lower / fixedWarm,
        '×',
      ),
      row(NAME, 'bound: that schedule, requests vs fixed 2 s', bound.requests / fixedWarm, '×'),
      row(NAME, 'warm, learned requests ÷ that lower bound', learnedWarm / bound.lower, '×'),
    );
    const learned = runs.learned;
    const withEta = jobs
      .map((j, i) => ({ j, r: learned[i]! }))
      .filter(({ r }) => r.inside !== undefined);
    const warmEta = withEta.filter(({ j }) => warm(j));
    const inside = warmEta.filter(({ r }) => r.inside).length / Math.max(1, warmEta.length);
    rows.push(
      row(NAME, 'warm, learned: jobs with an eta on the first snapshot', warmEta.length, 'jobs'),
      row(
        NAME,
        'cold, learned: jobs with an eta on the first snapshot',
        withEta.length - warmEta.length,
        'jobs',
      ),
      row(NAME, 'warm, learned: 80% eta interval holds the end (≥)', inside, 'share', {
        atLeast: 0.75,
      }),
      row(NAME, 'warm, learned: 80% eta interval holds the end (≤)', inside, 'share', {
        atMost: 0.85,
      }),
    );
    const kinds = model.toJSON().kinds;
    const bins = kinds.map((k) => k.sketch.bins.length);
    rows.push(
      row(NAME, 'model: kinds learned', kinds.length, 'kinds'),
      row(
        NAME,
        'model: bins per kind (mean)',
        bins.reduce((a, b) => a + b, 0) / bins.length,
        'bins',
      ),
      row(NAME, 'model: bins per kind (max)', Math.max(...bins), 'bins'),
      row(
        NAME,
        'model: JSON per kind (mean)',
        kinds.reduce((a, k) => a + JSON.stringify(k).length, 0) / kinds.length,
        'B',
      ),
      row(NAME, 'model: heap per kind (1,000 kinds × 100 jobs, σ 1)', heapPerKind(), 'B'),
    );
    return rows;
  },
};
export default bench;
