/**
 * Issue 6: one `jobwatch serve` process watching N jobs on the simulator with M event-stream
 * clients connected: the daemon's memory, its event-loop delay p99 (read from its own
 * `/metrics`, measured inside it with `monitorEventLoopDelay`), and fan-out latency p99 from a
 * change's detection (the snapshot's `lastPolled`) to its arrival at a client.
 *
 * Clients subscribe as widgets do: most to a few jobs each (`?jobid=`), a few to everything.
 * The deployment's request budget (250 requests/s at full size) is what a real server would
 * grant; pacing under it is `@jobwatch/rx`'s, so detection lag is not measured here.
 * Full size: 10,000 jobs and 1,000 clients; the quick run is much smaller.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '@jobwatch/simulator';
import { metric, startDaemon } from '../daemon-process.js';
import { type Benchmark, percentile, row } from '../harness.js';
import { type Client, KEY, openClient, post } from '../stream-client.js';

/**
 * The daemon runs with the heap cap its deploy files set (README, "Tuning");
 * BENCH_DAEMON_NODE_ARGS replaces it (e.g. "--cpu-prof" to profile, "" for Node's defaults).
 */
const NODE_ARGS = (process.env.BENCH_DAEMON_NODE_ARGS ?? '--max-old-space-size=192')
  .split(' ')
  .filter(Boolean);

const bench: Benchmark = {
  name: 'daemon',
  issue: 6,
  async run({ full }) {
    // BENCH_DAEMON_JOBS / BENCH_DAEMON_CLIENTS override the sizes (for a middle-sized run).
    const jobs = Number(process.env.BENCH_DAEMON_JOBS) || (full ? 10_000 : 300);
    const clients = Number(process.env.BENCH_DAEMON_CLIENTS) || (full ? 1_000 : 60);
    const everything = full ? 5 : 2;
    const perClient = 5;
    const sim = await startSimulator({ seed: 6, tokenTtlMs: 3_600_000 });
    const dir = mkdtempSync(join(tmpdir(), 'jobwatch-bench-'));
    const { child, url } = await startDaemon(
      {
        dataDir: dir,
        apiKeys: [KEY],
        events: { heartbeat: '15s' },
        deployments: [
          {
            name: 'bench',
            url: sim.adminUrl,
            username: 'admin',
            passwordEnv: 'JOBWATCH_BENCH_PASSWORD',
            budget: { concurrency: 16, rate: full ? 250 : 100 },
          },
        ],
      },
      dir,
      { nodeArgs: NODE_ARGS, env: { JOBWATCH_BENCH_PASSWORD: 'admin' } },
    );
    const open: Client[] = [];
    const samples = { rss: [] as number[], lag: [] as number[] };
    const scrape = async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      samples.rss.push(metric(text, 'process_resident_memory_bytes') / 1024 / 1024);
      samples.lag.push(metric(text, 'nodejs_eventloop_lag_p99_seconds') * 1000);
      if (process.env.BENCH_DEBUG) {
        const mb = (name: string) => Math.round(metric(text, name) / 1024 / 1024);
        console.error(
          `heap ${mb('nodejs_heap_size_used_bytes')} MB, external ${mb('nodejs_external_memory_bytes')} MB, rss ${mb('process_resident_memory_bytes')} MB, clients ${metric(text, 'jobwatch_event_stream_clients')}, dropped ${metric(text, 'jobwatch_event_stream_dropped_total')}`,
        );
      }
    };
    try {
      // Jobs of 5–40 s (quick: 2–10 s), created on the simulator.
      const ids: string[] = [];
      for (let i = 0; i < jobs; i += 1) {
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
      for (let c = 0; c < everything; c += 1) {
        open.push(
          await openClient(
            `${url}/api/events`,
            c === 0 ? latencies : undefined,
            (jobid, terminal) => {
              if (c !== 0 || !terminal) return;
              ended.add(jobid);
              if (ended.size === jobs) allDone();
            },
          ),
        );
      }
      for (let c = everything; c < clients; c += 1) {
        const mine = Array.from({ length: perClient }, (_, k) => ids[(c * perClient + k) % jobs]);
        const query = mine.map((id) => `jobid=${id}`).join('&');
        open.push(await openClient(`${url}/api/events?${query}`, latencies, () => {}));
      }
      await scrape(); // resets the daemon's event-loop histogram: measure from here
      samples.lag.length = 0;
      const timer = setInterval(() => void scrape().catch(() => undefined), 2_000);
      const queue = [...ids];
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let id = queue.shift(); id; id = queue.shift())
            await post(`${url}/api/jobs`, { jobid: id });
        }),
      );
      // Registration (a burst of POSTs and first polls) is reported apart from steady watching.
      await scrape();
      const registrationLag = Math.max(...samples.lag);
      samples.lag.length = 0;
      const limit = full ? 600_000 : 120_000;
      await Promise.race([
        done,
        new Promise((_, reject) =>
          setTimeout(
            () => reject(new Error(`only ${ended.size}/${jobs} jobs ended in time`)),
            limit,
          ).unref(),
        ),
      ]);
      clearInterval(timer);
      await scrape();
      if (process.env.BENCH_DEBUG) console.error(JSON.stringify(samples));
      return [
        row('daemon', `jobs watched`, jobs, 'jobs'),
        row('daemon', `event-stream clients`, clients, 'clients'),
        row('daemon', 'RSS (max)', Math.max(...samples.rss), 'MB', { atMost: 300 }),
        row('daemon', 'event-loop delay p99 (max) while watching', Math.max(...samples.lag), 'ms', {
          atMost: 50,
        }),
        row(
          'daemon',
          'event-loop delay p99 (median of 2 s windows)',
          percentile(samples.lag, 50),
          'ms',
        ),
        row('daemon', 'event-loop delay p99 while registering jobs', registrationLag, 'ms'),
        row('daemon', 'fan-out latency p99', percentile(latencies, 99), 'ms', { atMost: 250 }),
        row('daemon', 'fan-out latency p50', percentile(latencies, 50), 'ms'),
        row('daemon', 'events received', latencies.length, 'events'),
      ];
    } finally {
      for (const c of open) c.close();
      // A daemon that died mid-run has already exited: waiting for its exit would hang.
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
