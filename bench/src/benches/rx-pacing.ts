/**
 * Issue 5, benchmark 1: pacing efficiency in virtual time.
 *
 * 1,000 jobs, durations log-uniform between 2 s and 30 min, 2–5 visible changes each
 * (SUBMITTED → EXECUTING, progress updates at random times, the end). jobwatch runs for
 * real — `createWatcher` with its default pacing on a `VirtualTimeScheduler`, answered by an
 * in-memory server that settles on the virtual clock — and is compared with the pollers
 * people write by hand: fixed 1 s (the Maps SDK's default), fixed 2 s (arcgis-rest-js's)
 * and AWS-style exponential backoff 2 s → 120 s.
 *
 * Figures: total requests, and the detection lag of every change (p50/p95, absolute and
 * as a share of the job's age at the change). Targets: ≤ 0.2× the requests of the fixed 2 s
 * poller, and p95 of lag ÷ max(1 s, 10% of age) ≤ 1.
 *
 * How low can requests go? The `10% poller` polls again at max(t + 1 s, 1.1 t): every change
 * in time. The `bound` rows are computed, not simulated: the fewest requests of any poll
 * schedule paced by age (the same schedule for every job, since a poller cannot know when
 * a job will change or end) that sees every change in time, or 95% of them (what a p95
 * target allows), found by dynamic programming over poll times *knowing this workload's
 * change times in hindsight*. The 95% row is a Lagrangian lower bound: no age-paced poller
 * meets the p95 target with fewer requests on these jobs, so ≤ 0.2× is out of reach here.
 */
import type { AdminClient } from '@jobwatch/client';
import { createWatcher } from '@jobwatch/rx';
import type { Job } from '@jobwatch/schema';
import { createRandom } from '@jobwatch/simulator';
import { VirtualTimeScheduler } from 'rxjs';
import { type Benchmark, type BenchRow, percentile, row } from '../harness.js';

const NAME = 'rx-pacing';
const MIN = 2_000;
const MAX = 30 * 60_000;

/** Every run sees the same jobs: the simulator's seeded generator. */
const seeded = (seed: number) => createRandom(seed, NAME);

interface SimJob {
  readonly id: string;
  readonly duration: number;
  /** Times of the visible changes, rising; the last is the end. */
  readonly changes: readonly number[];
}

function makeJobs(count: number, random: () => number): SimJob[] {
  return Array.from({ length: count }, (_, i) => {
    const duration = Math.round(
      Math.exp(Math.log(MIN) + random() * (Math.log(MAX) - Math.log(MIN))),
    );
    const n = 2 + Math.floor(random() * 4);
    const inner = Array.from(
      { length: n - 1 },
      () => 1 + Math.floor(random() * (duration - 1)),
    ).sort((a, b) => a - b);
    const changes = [...new Set([...inner, duration])];
    return { id: `j${i.toString(16).padStart(32, '0')}`, duration, changes };
  });
}

/** The job's body at time `t`: SUBMITTED, EXECUTING after the first change, the end at its duration. */
function bodyAt(job: SimJob, t: number): Job {
  let seen = 0;
  for (const c of job.changes) if (c <= t) seen++;
  const ended = t >= job.duration;
  const updated = seen === 0 ? 0 : job.changes[seen - 1]!;
  return {
    jobid: job.id,
    status: ended ? 'COMPLETED' : seen === 0 ? 'SUBMITTED' : 'EXECUTING',
    starttime: 0,
    endtime: ended ? job.duration : 0,
    updatedtime: updated,
    operationURI: '/arcgis/admin/services/Roads.MapServer/edit',
    username: 'admin',
  };
}

interface Outcome {
  requests: number;
  /** Per change: [lag ms, age at the change ms]. */
  lags: Array<[number, number]>;
}

/** A hand-written poller: polls at 0 and then after each `next(n, t)` ms. */
function baseline(jobs: readonly SimJob[], next: (n: number, t: number) => number): Outcome {
  const out: Outcome = { requests: 0, lags: [] };
  for (const job of jobs) {
    let t = 0;
    let n = 0;
    let detected = 0;
    for (;;) {
      out.requests++;
      while (detected < job.changes.length && job.changes[detected]! <= t) {
        out.lags.push([t - job.changes[detected]!, job.changes[detected]!]);
        detected++;
      }
      if (t >= job.duration) break;
      t += next(n++, t);
    }
  }
  return out;
}

/** jobwatch itself, in virtual time. */
function jobwatch(jobs: readonly SimJob[], random: () => number): Outcome {
  const scheduler = new VirtualTimeScheduler();
  const byId = new Map(jobs.map((j) => [j.id, j]));
  let requests = 0;
  const client = {
    url: 'http://virtual/arcgis/admin',
    getJob(jobid: string): PromiseLike<Job> {
      requests++;
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
    scheduler,
    budget: { concurrency: 1_000_000, rate: Number.POSITIVE_INFINITY },
    pacing: { random },
  });
  const out: Outcome = { requests: 0, lags: [] };
  for (const job of jobs) {
    let detected = 0;
    watcher.watch(job.id).subscribe((s) => {
      const t = scheduler.now();
      const shown = s.job?.updatedtime ?? -1;
      while (detected < job.changes.length && job.changes[detected]! <= shown) {
        out.lags.push([t - job.changes[detected]!, job.changes[detected]!]);
        detected++;
      }
    });
  }
  scheduler.flush();
  out.requests = requests;
  return out;
}

const allowance = (c: number) => Math.max(1000, 0.1 * c);

/** How many of the sorted `values` are ≤ `x`. */
function countUpTo(values: readonly number[], x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The fewest requests of one age-paced poll schedule (polls at the same ages for every job)
 * that sees at least `share` of all changes within max(1 s, 10% of the age at the change).
 *
 * Poll times lie on a grid (20 ms, or 0.2% of the age when larger). A poll at `s` after one
 * at `t` costs one request per job still running at `t` and sees in time the changes in
 * `(t, s]` no older than its allowance. For a price λ per change seen in time, dynamic
 * programming gives the schedule minimising requests − λ·seen; a bisection on λ finds the
 * cheapest that sees `share`, and every λ gives the lower bound min + λ·needed, since any
 * schedule that sees `needed` changes costs at least that.
 */
function leastRequests(
  jobs: readonly SimJob[],
  share: number,
): { requests: number; lower: number } {
  const end = Math.max(...jobs.map((j) => j.duration));
  const grid = [0];
  while (grid.at(-1)! < end) {
    const t = grid.at(-1)!;
    grid.push(Math.min(end, Math.round(t + Math.max(20, 0.002 * t))));
  }
  const changes = jobs.flatMap((j) => j.changes).sort((a, b) => a - b);
  const ends = jobs.map((j) => j.duration).sort((a, b) => a - b);
  const n = grid.length;
  const seenBy = grid.map((x) => countUpTo(changes, x));
  const running = grid.map((x) => ends.length - countUpTo(ends, x));
  // A poll at x sees in time the changes from this time on: c + allowance(c) ≥ x.
  const oldestInTime = grid.map((x) =>
    countUpTo(changes, Math.ceil(x <= 11_000 ? x - 1000 : x / 1.1) - 1),
  );
  const needed = Math.ceil(share * changes.length);
  const value = new Float64Array(n);
  const seen = new Float64Array(n);
  const cost = new Float64Array(n);
  const plan = (price: number) => {
    for (let t = n - 2; t >= 0; t--) {
      let best = Number.POSITIVE_INFINITY;
      // Waits past 2× the allowance lose every change they cover; they never pay.
      const limit = grid[t]! + 2 * allowance(grid[t]!) + 2000;
      for (let s = t + 1; s < n && (s === t + 1 || grid[s]! <= limit); s++) {
        const inTime = seenBy[s]! - Math.max(seenBy[t]!, oldestInTime[s]!);
        const v = running[t]! - price * inTime + value[s]!;
        if (v < best) {
          best = v;
          seen[t] = inTime + seen[s]!;
          cost[t] = running[t]! + cost[s]!;
        }
      }
      value[t] = best;
    }
    // Every job's first poll, at 0, comes on top.
    return { value: value[0]! + jobs.length, seen: seen[0]!, requests: cost[0]! + jobs.length };
  };
  let lo = 0;
  let hi = 1000;
  let requests = plan(hi).requests;
  let lower = 0;
  for (let i = 0; i < 40; i++) {
    const price = (lo + hi) / 2;
    const r = plan(price);
    lower = Math.max(lower, r.value + price * needed);
    if (r.seen >= needed) {
      hi = price;
      requests = r.requests;
    } else lo = price;
  }
  return { requests, lower: Math.min(lower, requests) };
}

function summarise(name: string, o: Outcome, fixed2: number, rows: BenchRow[], target: boolean) {
  const lags = o.lags.map(([lag]) => lag / 1000);
  const shares = o.lags.map(([lag, age]) => lag / Math.max(age, 1));
  const allowance = o.lags.map(([lag, age]) => lag / Math.max(1000, 0.1 * age));
  rows.push(row(NAME, `${name}: requests`, o.requests, 'req'));
  rows.push(
    row(
      NAME,
      `${name}: requests vs fixed 2 s`,
      o.requests / fixed2,
      '×',
      target ? { atMost: 0.2 } : undefined,
    ),
  );
  rows.push(row(NAME, `${name}: lag p50`, percentile(lags, 50), 's'));
  rows.push(row(NAME, `${name}: lag p95`, percentile(lags, 95), 's'));
  rows.push(row(NAME, `${name}: lag/age p50`, percentile(shares, 50), '×'));
  rows.push(row(NAME, `${name}: lag/age p95`, percentile(shares, 95), '×'));
  rows.push(
    row(
      NAME,
      `${name}: p95 lag ÷ max(1 s, 10% age)`,
      percentile(allowance, 95),
      '×',
      target ? { atMost: 1 } : undefined,
    ),
  );
}

const bench: Benchmark = {
  name: NAME,
  issue: 5,
  async run() {
    // Virtual time: the full size is cheap, so both modes run it.
    const jobs = makeJobs(1000, seeded(5));
    const fixed1 = baseline(jobs, () => 1000);
    const fixed2 = baseline(jobs, () => 2000);
    const exponential = baseline(jobs, (n) => Math.min(120_000, 2000 * 2 ** n));
    // Sees every change within max(1 s, 10% of its age): polls again at max(t + 1 s, 1.1 t).
    const tenPercent = baseline(jobs, (_n, t) => Math.max(1000, 0.1 * t));
    const ours = jobwatch(jobs, seeded(55));
    const every = leastRequests(jobs, 1);
    const p95 = leastRequests(jobs, 0.95);
    const rows: BenchRow[] = [];
    summarise('jobwatch', ours, fixed2.requests, rows, true);
    summarise('fixed 1 s', fixed1, fixed2.requests, rows, false);
    summarise('fixed 2 s', fixed2, fixed2.requests, rows, false);
    summarise('exp 2 s→120 s', exponential, fixed2.requests, rows, false);
    summarise('10% poller', tenPercent, fixed2.requests, rows, false);
    const f2 = fixed2.requests;
    rows.push(
      row(NAME, 'bound: every change in time, requests vs fixed 2 s', every.requests / f2, '×'),
      row(NAME, 'bound: p95 target, requests vs fixed 2 s (lower bound)', p95.lower / f2, '×'),
      row(NAME, 'jobwatch requests ÷ p95 bound', ours.requests / p95.lower, '×'),
    );
    return rows;
  },
};
export default bench;
