/**
 * Issue 15: geoprocessing jobs, over real HTTP against the simulator in a child process.
 *
 * 1. **CPU per GP poll.** 2,000 GP jobs at rest (manual clock); this process polls them with 8
 *    requests in flight, alternating rounds of a bare `fetch` + `JSON.parse` loop, the client
 *    alone (`readJobRef`), and a watcher following every job by its URL (`watchRef`) with a
 *    zero-wait pacing; CPU time of this process per answered poll. Target: ≤ 1.5× the bare loop.
 *
 * 2. **Side by side with Esri's `Job`.** 200 GP jobs on a running clock (durations log-uniform,
 *    one in ten failing), followed to their end at once by three processes of their own:
 *    `Job.fromExistingJob` + `waitForCompletion` from `@esri/arcgis-rest-request` 4.10.2 (a
 *    2-second poller per job, its default), a jobwatch watcher with its defaults, and one whose
 *    budget is the rate Esri's pollers reach together (jobs ÷ 2 s). For each: requests, CPU
 *    time, and the lag from each job's end (on the simulator's clock) to its end being seen.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createAdminClient } from '@jobwatch/client';
import { createWatcher } from '@jobwatch/rx';
import { logUniform, seededRandom } from '@jobwatch/test-utils';
import type { Subscription } from 'rxjs';
import type { FollowJobs, FollowResult, FollowTask } from '../gp-follow.js';
import { type Benchmark, percentile, row } from '../harness.js';

const NAME = 'gp';
const CONCURRENCY = 8;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Sim {
  readonly origin: string;
  readonly serverAdminUrl: string;
  readonly child: ChildProcess;
}

/** The simulator CLI in a child process: its admin, ArcGIS Server admin, services and portal URLs. */
async function startSim(manual: boolean): Promise<Sim> {
  const bin = fileURLToPath(new URL('./bin.js', import.meta.resolve('@jobwatch/simulator')));
  const child = spawn(
    process.execPath,
    [
      bin,
      '--port',
      '0',
      '--quiet',
      '--token-ttl',
      '24h',
      '--seed',
      '15',
      ...(manual ? ['--manual-clock'] : []),
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const urls = await new Promise<string[]>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split('\n').filter((l) => l.startsWith('http'));
      if (lines.length >= 4) resolve(lines.map((l) => l.trim()));
    });
    child.once('exit', (code) => reject(new Error(`simulator exited (${code})`)));
  });
  const serverAdminUrl = urls[1] as string;
  return { origin: new URL(serverAdminUrl).origin, serverAdminUrl, child };
}

async function postJson(url: string, body: object): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await response.json()) as Record<string, unknown>;
}

async function tokenFor(sim: Sim): Promise<string> {
  const response = await fetch(
    sim.serverAdminUrl.replace(/\/admin$/, '/sharing/rest/generateToken'),
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        username: 'admin',
        password: 'admin',
        client: 'referer',
        referer: sim.origin,
        expiration: '1440',
        f: 'json',
      }).toString(),
    },
  );
  const { token } = (await response.json()) as { token?: string };
  if (typeof token !== 'string') throw new Error('the simulator gave no token');
  return token;
}

interface GpJob {
  readonly jobId: string;
  readonly taskUrl: string;
  readonly jobUrl: string;
}

async function createGpJob(sim: Sim, outcome: string, durationMs: number): Promise<GpJob> {
  const made = await postJson(`${sim.origin}/__sim/gp/jobs`, { outcome, durationMs });
  if (typeof made.jobUrl !== 'string')
    throw new Error(`simulator refused a GP job: ${JSON.stringify(made)}`);
  return made as unknown as GpJob;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Part 1: CPU per poll of 2,000 watched GP jobs against a bare loop and the client alone. */
async function cpuPerPoll(full: boolean) {
  const sim = await startSim(true);
  try {
    const jobs: GpJob[] = [];
    for (let i = 0; i < 2000; i++)
      jobs.push(await createGpJob(sim, 'esriJobSucceeded', 2_000_000_000));
    const token = await tokenFor(sim);
    const headers = { 'x-esri-authorization': `Bearer ${token}` };
    const pollsPerRound = full ? 10_000 : 3000;
    const timed = async (work: () => Promise<void>) => {
      gc();
      const t = cpuMs();
      await work();
      return cpuMs() - t;
    };
    const bare = (polls: number) =>
      timed(async () => {
        let next = 0;
        const worker = async () => {
          while (next < polls) {
            const job = jobs[next++ % jobs.length] as GpJob;
            const response = await fetch(`${job.jobUrl}?f=json`, { headers });
            const body = JSON.parse(await response.text()) as { jobId?: string };
            if (body.jobId !== job.jobId) throw new Error(`bare loop: unexpected body`);
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      });
    let answered = 0;
    const counting: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      answered++;
      return response;
    };
    const client = createAdminClient({
      url: sim.serverAdminUrl,
      auth: { type: 'token', token },
      fetch: counting,
    });
    const clientAlone = (polls: number) =>
      timed(async () => {
        let next = 0;
        const worker = async () => {
          while (next < polls)
            await client.readJobRef((jobs[next++ % jobs.length] as GpJob).jobUrl);
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      });
    const untilAnswered = (n: number, failed: () => unknown) =>
      new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (answered >= n || failed()) {
            clearInterval(check);
            resolve();
          }
        }, 2);
      });
    const viaJobwatch = async (polls: number) => {
      const watcher = createWatcher(client, {
        budget: { concurrency: CONCURRENCY, rate: Number.POSITIVE_INFINITY },
        pacing: { minInterval: 0.001, maxInterval: 0.001, jitter: 0, troubleInterval: 1 },
        grace: 0,
      });
      let failure: unknown;
      const failed = () => failure;
      const subs: Subscription[] = jobs.map((j) =>
        watcher.watchRef(j.jobUrl).subscribe({ error: (e) => (failure = e) }),
      );
      await untilAnswered(answered + jobs.length, failed);
      gc();
      const start = answered;
      const t = cpuMs();
      await untilAnswered(start + polls, failed);
      const cpu = cpuMs() - t;
      const done = answered - start;
      for (const s of subs) s.unsubscribe();
      watcher.close();
      if (failure) throw failure;
      return (cpu * polls) / done;
    };
    const variants = { bare, clientAlone, viaJobwatch };
    const cpu = { bare: 0, clientAlone: 0, viaJobwatch: 0 };
    for (let r = 0; r < 3; r++) {
      for (const [name, run] of Object.entries(variants) as [
        keyof typeof variants,
        (n: number) => Promise<number>,
      ][]) {
        if (name !== 'viaJobwatch') await run(1000); // warm, untimed
        cpu[name] += await run(pollsPerRound);
      }
    }
    const us = (name: keyof typeof variants) => (cpu[name] / (3 * pollsPerRound)) * 1000;
    return [
      row(NAME, 'bare fetch+JSON.parse: CPU per GP poll', us('bare'), 'µs'),
      row(NAME, 'client alone (readJobRef): CPU per GP poll', us('clientAlone'), 'µs'),
      row(NAME, 'jobwatch (watchRef, 2,000 jobs): CPU per GP poll', us('viaJobwatch'), 'µs'),
      row(NAME, 'jobwatch / bare CPU per GP poll', us('viaJobwatch') / us('bare'), '×', {
        atMost: 1.5,
      }),
    ];
  } finally {
    sim.child.kill();
  }
}

/** A follower in a process of its own: started, then told its jobs once ready. */
interface Follower {
  readonly ready: Promise<void>;
  readonly result: Promise<FollowResult>;
  follow(jobs: FollowJobs): void;
}

function startFollower(task: FollowTask, dir: string): Follower {
  const file = join(dir, `${task.follower}.json`);
  writeFileSync(file, JSON.stringify(task));
  const script = fileURLToPath(new URL(`../gp-follow${extname(import.meta.url)}`, import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, script, file], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  const result = new Promise<FollowResult>((resolve, reject) => {
    child.once('exit', (code) => {
      const line = out.trim().split('\n').at(-1);
      if (code !== 0 || !line || line === 'ready')
        reject(new Error(`${task.follower} follower exited ${code}: ${out}`));
      else resolve(JSON.parse(line) as FollowResult);
    });
  });
  return {
    ready: Promise.race([ready, result.then(() => undefined)]),
    result,
    follow: (jobs) => child.stdin?.end(`${JSON.stringify(jobs)}\n`),
  };
}

/** Part 2: Esri's `Job` and jobwatch following the same 200 GP jobs, each in its own process. */
async function sideBySide(full: boolean) {
  const sim = await startSim(false);
  const dir = mkdtempSync(join(tmpdir(), 'jobwatch-gp-bench-'));
  try {
    const token = await tokenFor(sim);
    const followers = ['esri', 'jobwatch', 'jobwatch-budget'] as const;
    const running = followers.map((follower) =>
      startFollower({ token, serverAdminUrl: sim.serverAdminUrl, follower }, dir),
    );
    await Promise.all(running.map((f) => f.ready));
    const random = seededRandom(15);
    const count = 200;
    const [min, max] = full ? [5_000, 60_000] : [3_000, 15_000];
    const jobs: Array<GpJob & { endsAt: number }> = [];
    for (let i = 0; i < count; i++) {
      const durationMs = Math.round(logUniform(random, min, max));
      const outcome = random() < 0.1 ? 'esriJobFailed' : 'esriJobSucceeded';
      const job = await createGpJob(sim, outcome, durationMs);
      jobs.push({ ...job, endsAt: Date.now() + durationMs });
    }
    for (const f of running) f.follow(jobs);
    const results = await Promise.all(running.map((f) => f.result));
    const rows = [];
    const label = {
      esri: "Esri's Job (2 s poller)",
      jobwatch: 'jobwatch (defaults)',
      'jobwatch-budget': `jobwatch (budget ${count / 2}/s)`,
    };
    for (const [i, follower] of followers.entries()) {
      const r = results[i] as FollowResult;
      if (r.errors.length) throw new Error(`${follower}: ${r.errors.join('; ')}`);
      const lags = jobs.map((j) => Math.max(0, (r.ends[j.jobId] ?? Number.NaN) - j.endsAt));
      if (lags.some(Number.isNaN)) throw new Error(`${follower}: not every job's end was seen`);
      lags.sort((a, b) => a - b);
      rows.push(
        row(NAME, `${label[follower]}: requests for ${count} jobs`, r.requests, 'req'),
        row(NAME, `${label[follower]}: CPU`, r.cpuMs, 'ms'),
        row(NAME, `${label[follower]}: lag to the end, p50`, percentile(lags, 50), 'ms'),
        row(NAME, `${label[follower]}: lag to the end, p95`, percentile(lags, 95), 'ms'),
        row(NAME, `${label[follower]}: lag to the end, max`, lags.at(-1) as number, 'ms'),
      );
    }
    const [esri, jw] = results as [FollowResult, FollowResult];
    rows.push(
      row(NAME, "jobwatch (defaults) requests ÷ Esri's", jw.requests / esri.requests, '×'),
      row(NAME, "jobwatch (defaults) CPU ÷ Esri's", jw.cpuMs / esri.cpuMs, '×'),
    );
    return rows;
  } finally {
    sim.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

const bench: Benchmark = {
  name: NAME,
  issue: 15,
  async run({ full }) {
    return [...(await cpuPerPoll(full)), ...(await sideBySide(full))];
  },
};
export default bench;
