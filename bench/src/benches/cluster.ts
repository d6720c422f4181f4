/**
 * Issue 16: the same jobs watched by one `jobwatch serve` on SQLite, then by three sharing one
 * `redis-server` — the cost of coordination. Both runs watch three deployments (one simulator,
 * three names, a third of the jobs each, the same budget each), so the three Redis daemons
 * each hold one deployment's lease, as they would in production; event-stream clients and job
 * registrations are spread over the daemons round robin.
 *
 * Figures: CPU per poll (every daemon's `process_cpu_seconds_total` over every daemon's
 * `jobwatch_polls_total`, and Redis's own CPU apart), Redis commands per poll (`INFO stats`),
 * fan-out latency p99 (a change's detection, the snapshot's `lastPolled`, to its arrival at a
 * client on any daemon), memory per daemon (the largest RSS), and takeover time: the holder of
 * a deployment killed with SIGKILL, until another daemon holds its lease (polled in Redis every
 * 20 ms). Full size: 10,000 jobs, 1,000 clients, a 15 s lease period (the default); the quick
 * run: 300 jobs, 60 clients, 3 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '@jobwatch/simulator';
import { startRedis } from '@jobwatch/test-utils';
import { Redis } from 'ioredis';
import { metric, metricSum, startDaemon } from '../daemon-process.js';
import { type Benchmark, type BenchRow, percentile, row } from '../harness.js';
import { type Client, KEY, openClient, post } from '../stream-client.js';

const NODE_ARGS = (process.env.BENCH_DAEMON_NODE_ARGS ?? '--max-old-space-size=192')
  .split(' ')
  .filter(Boolean);

const DEPLOYMENTS = ['east', 'west', 'north'] as const;

interface Sizes {
  readonly jobs: number;
  readonly clients: number;
  /** Requests per second per deployment. */
  readonly rate: number;
  readonly leasePeriodMs: number;
  readonly limitMs: number;
}

interface RunFigures {
  /** Daemon CPU seconds per poll, all daemons together. */
  readonly cpuPerPoll: number;
  readonly polls: number;
  readonly fanoutP99: number;
  readonly fanoutP50: number;
  /** Largest RSS of each daemon, MB. */
  readonly rss: number[];
  /** Redis commands per poll, those run inside scripts included (Redis runs only). */
  readonly commandsPerPoll?: number;
  /** Round trips to Redis per poll, as the daemons count them (Redis runs only). */
  readonly tripsPerPoll?: number;
  /** Redis server CPU seconds per poll (Redis runs only). */
  readonly redisCpuPerPoll?: number;
  /** SIGKILL to another daemon holding the lease, ms (Redis runs only). */
  readonly takeoverMs?: number;
}

/** `INFO` as numbers: `total_commands_processed`, `used_cpu_sys`, `used_cpu_user`. */
async function redisInfo(redis: Redis): Promise<{ commands: number; cpu: number }> {
  const text = await redis.info();
  const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(text)?.[1]);
  return {
    commands: field('total_commands_processed'),
    cpu: field('used_cpu_sys') + field('used_cpu_user'),
  };
}

/** One run: `daemons` daemons (SQLite when `redisUrl` is absent) on a fresh simulator. */
async function runOnce(sizes: Sizes, daemons: number, redisUrl?: string): Promise<RunFigures> {
  const sim = await startSimulator({ seed: 16, tokenTtlMs: 3_600_000 });
  const dirs = Array.from({ length: daemons }, () =>
    mkdtempSync(join(tmpdir(), 'jobwatch-bench-cluster-')),
  );
  const redis = redisUrl ? new Redis(redisUrl) : undefined;
  const started: Array<Awaited<ReturnType<typeof startDaemon>>> = [];
  const open: Client[] = [];
  try {
    for (const dir of dirs)
      started.push(
        await startDaemon(
          {
            dataDir: join(dir, 'data'),
            apiKeys: [KEY],
            ...(redisUrl
              ? {
                  store: { kind: 'redis', url: redisUrl },
                  cluster: { leasePeriod: `${sizes.leasePeriodMs}ms` },
                }
              : {}),
            deployments: DEPLOYMENTS.map((name) => ({
              name,
              url: sim.adminUrl,
              username: 'admin',
              passwordEnv: 'JOBWATCH_BENCH_PASSWORD',
              budget: { concurrency: 8, rate: sizes.rate },
            })),
          },
          dir,
          { nodeArgs: NODE_ARGS, env: { JOBWATCH_BENCH_PASSWORD: 'admin' } },
        ),
      );
    const urls = started.map((d) => d.url);
    // Jobs of 5–40 s (quick: 2–10 s), as in the daemon benchmark; job i in deployment i mod 3.
    const ids: string[] = [];
    const full = sizes.jobs >= 10_000;
    for (let i = 0; i < sizes.jobs; i += 1) {
      const spread = full ? 5_000 + ((i * 7919) % 35_000) : 2_000 + ((i * 7919) % 8_000);
      ids.push(
        sim.createJob({ outcome: i % 10 === 0 ? 'FAILED' : 'COMPLETED', durationMs: spread }),
      );
    }
    const latencies: number[] = [];
    const ended = new Set<string>();
    let allDone: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      allDone = resolve;
    });
    // One client per daemon sees everything (the first counts the ends); the rest follow five
    // jobs each, as widgets do.
    for (let c = 0; c < sizes.clients; c += 1) {
      const base = urls[c % urls.length] as string;
      const everything = c < urls.length;
      // Five jobs of one deployment (job i belongs to deployment i mod 3).
      const d = c % 3;
      const perDeployment = Math.floor(ids.length / 3);
      const mine = Array.from({ length: 5 }, (_, k) => ids[3 * ((c * 5 + k) % perDeployment) + d]);
      const query = everything
        ? ''
        : `?deployment=${DEPLOYMENTS[d]}&${mine.map((id) => `jobid=${id}`).join('&')}`;
      open.push(
        await openClient(`${base}/api/events${query}`, latencies, (jobid, terminal) => {
          if (c !== 0 || !terminal) return;
          ended.add(jobid);
          if (ended.size === ids.length) allDone();
        }),
      );
    }
    const rss = started.map(() => 0);
    const scrapeAll = async () =>
      Promise.all(
        urls.map(async (url, i) => {
          const text = await (await fetch(`${url}/metrics`)).text();
          rss[i] = Math.max(rss[i] ?? 0, metric(text, 'process_resident_memory_bytes') / 2 ** 20);
          return {
            cpu: metric(text, 'process_cpu_seconds_total'),
            polls: metricSum(text, 'jobwatch_polls_total'),
            trips: metricSum(text, 'jobwatch_redis_commands_total'),
          };
        }),
      );
    const timer = setInterval(() => void scrapeAll().catch(() => undefined), 2_000);
    const before = await scrapeAll();
    const redisBefore = redis ? await redisInfo(redis) : undefined;
    const queue = ids.map((jobid, i) => ({ jobid, i }));
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let next = queue.shift(); next; next = queue.shift())
          await post(`${urls[next.i % urls.length]}/api/jobs`, {
            jobid: next.jobid,
            deployment: DEPLOYMENTS[next.i % 3],
          });
      }),
    );
    await Promise.race([
      done,
      new Promise((_, reject) =>
        setTimeout(
          () => reject(new Error(`only ${ended.size}/${ids.length} jobs ended in time`)),
          sizes.limitMs,
        ).unref(),
      ),
    ]);
    clearInterval(timer);
    const after = await scrapeAll();
    const redisAfter = redis ? await redisInfo(redis) : undefined;
    if (redis && process.env.BENCH_DEBUG) console.error(await redis.info('commandstats'));
    const sum = (
      xs: Array<{ cpu: number; polls: number; trips: number }>,
      k: 'cpu' | 'polls' | 'trips',
    ) => xs.reduce((a, x) => a + x[k], 0);
    const polls = sum(after, 'polls') - sum(before, 'polls');
    const cpu = sum(after, 'cpu') - sum(before, 'cpu');
    let takeoverMs: number | undefined;
    if (redis) takeoverMs = await takeover(redis, started);
    return {
      cpuPerPoll: cpu / polls,
      polls,
      fanoutP99: percentile(latencies, 99),
      fanoutP50: percentile(latencies, 50),
      rss,
      ...(redisBefore && redisAfter
        ? {
            commandsPerPoll: (redisAfter.commands - redisBefore.commands) / polls,
            tripsPerPoll: (sum(after, 'trips') - sum(before, 'trips')) / polls,
            redisCpuPerPoll: (redisAfter.cpu - redisBefore.cpu) / polls,
          }
        : {}),
      ...(takeoverMs !== undefined ? { takeoverMs } : {}),
    };
  } finally {
    for (const c of open) c.close();
    for (const { child } of started)
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    redis?.disconnect();
    await sim.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Kills the daemon holding the first deployment's lease with SIGKILL and resolves how long
 * until another daemon holds it. The lease's owner names the daemon's process id
 * (`<host>:<pid>:<random>`).
 */
async function takeover(
  redis: Redis,
  daemons: ReadonlyArray<Awaited<ReturnType<typeof startDaemon>>>,
): Promise<number> {
  const key = `{jobwatch}:lease:deployment:${DEPLOYMENTS[0]}`;
  const owner = await redis.hget(key, 'owner');
  const pid = Number(owner?.split(':').at(-2));
  const victim = daemons.find((d) => d.child.pid === pid);
  if (!victim) throw new Error(`no daemon holds ${key} (owner ${owner})`);
  const exited = new Promise((resolve) => victim.child.once('exit', resolve));
  victim.child.kill('SIGKILL');
  const killed = performance.now();
  await exited;
  for (;;) {
    const now = await redis.hget(key, 'owner');
    if (now && now !== owner) return performance.now() - killed;
    if (performance.now() - killed > 120_000) throw new Error('no takeover within 120 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const bench: Benchmark = {
  name: 'cluster',
  issue: 16,
  async run({ full }) {
    const sizes: Sizes = full
      ? { jobs: 10_000, clients: 1_000, rate: 85, leasePeriodMs: 15_000, limitMs: 600_000 }
      : { jobs: 300, clients: 60, rate: 35, leasePeriodMs: 3_000, limitMs: 120_000 };
    const single = await runOnce(sizes, 1);
    const redisServer = await startRedis();
    let cluster: RunFigures;
    try {
      cluster = await runOnce(sizes, 3, redisServer.url);
    } finally {
      await redisServer.close();
    }
    const us = (s: number) => s * 1e6;
    const rows: BenchRow[] = [
      row('cluster', 'jobs watched (3 deployments)', sizes.jobs, 'jobs'),
      row('cluster', 'event-stream clients', sizes.clients, 'clients'),
      row('cluster', 'SQLite, 1 daemon: CPU per poll', us(single.cpuPerPoll), 'µs'),
      row('cluster', 'Redis, 3 daemons: CPU per poll (all daemons)', us(cluster.cpuPerPoll), 'µs'),
      row(
        'cluster',
        'CPU per poll, 3 Redis daemons ÷ 1 SQLite',
        cluster.cpuPerPoll / single.cpuPerPoll,
        '×',
        {
          atMost: 1.3,
        },
      ),
      row('cluster', 'Redis server: CPU per poll', us(cluster.redisCpuPerPoll ?? Number.NaN), 'µs'),
      row(
        'cluster',
        'Redis round trips per poll (daemons)',
        cluster.tripsPerPoll ?? Number.NaN,
        'trips',
      ),
      row(
        'cluster',
        'Redis commands per poll (inside scripts too)',
        cluster.commandsPerPoll ?? Number.NaN,
        'cmd',
      ),
      row('cluster', 'polls (SQLite / Redis)', single.polls, 'polls'),
      row('cluster', 'polls, Redis run', cluster.polls, 'polls'),
      row('cluster', 'SQLite: fan-out latency p99', single.fanoutP99, 'ms'),
      row('cluster', 'Redis: fan-out latency p99', cluster.fanoutP99, 'ms', { atMost: 250 }),
      row('cluster', 'Redis: fan-out latency p50', cluster.fanoutP50, 'ms'),
      row('cluster', 'SQLite: RSS (max)', Math.max(...single.rss), 'MB'),
      row('cluster', 'Redis: RSS per daemon (max of the three)', Math.max(...cluster.rss), 'MB'),
      row('cluster', 'Redis: RSS per daemon (min of the three)', Math.min(...cluster.rss), 'MB'),
      row('cluster', 'lease period', sizes.leasePeriodMs, 'ms'),
      row('cluster', 'takeover after kill -9', cluster.takeoverMs ?? Number.NaN, 'ms', {
        atMost: sizes.leasePeriodMs + 2_000,
      }),
    ];
    return rows;
  },
};

export default bench;
