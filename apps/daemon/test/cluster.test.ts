/**
 * Three `jobwatch serve` processes (the built CLI) sharing one real `redis-server`: jobs of two
 * deployments (two simulators), an event-stream client on every daemon, a webhook receiver.
 * One daemon is killed with SIGKILL mid-run and Redis restarts mid-run; then every job's end
 * reached every client and the receiver exactly once after deduplication, no job went
 * unpolled for longer than a lease period (plus a renewal tick and its pacing), and each
 * deployment's requests stayed within its budget, all daemons together. A daemon stopped
 * (SIGSTOP) past its lease loses its deployment to another and, resumed, stops polling it.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Snapshot } from '@jobwatch/schema';
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { DaemonProcess, freePort, type RedisServer, startRedis } from '@jobwatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSse, tempDir } from './helpers.js';

const LEASE_MS = 2_000;
/** Renewal tick: a third of the lease period. */
const TICK_MS = LEASE_MS / 3;
const PACING = { minInterval: 250, maxInterval: 1_000 };
/** Tight enough to bind: eight jobs due every 250 ms would want 32 requests a second. */
const BUDGET = { concurrency: 4, rate: 4 };
const JOBS_PER_DEPLOYMENT = 8;
const KEY = randomBytes(24).toString('base64url');
/** A job across deployments. */
const jobKey = (job: { deployment: string; jobid: string }) => `${job.deployment}/${job.jobid}`;
const DEPLOYMENTS = ['east', 'west'] as const;
type DeploymentName = (typeof DEPLOYMENTS)[number];

let redis: RedisServer;
const sims = {} as Record<DeploymentName, Simulator>;
let receiver: Server;
const deliveries: Array<{ id: string; type: string; jobid: string; deployment: string }> = [];
let t: ReturnType<typeof tempDir>;
const daemons: DaemonProcess[] = [];
type Stream = Awaited<ReturnType<typeof openSse>>;

const auth = { authorization: `Bearer ${KEY}` };

/** The value of one series in Prometheus text, `0` when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const metricsOf = async (d: DaemonProcess) => (await fetch(`${d.url}/metrics`)).text();

/** The daemons (running) holding `deployment`'s lease, by their /metrics. */
async function holders(deployment: DeploymentName, among = running()): Promise<DaemonProcess[]> {
  const held = await Promise.all(
    among.map(async (d) => sample(await metricsOf(d), 'jobwatch_leases_held', { deployment })),
  );
  return among.filter((_, i) => held[i] === 1);
}

const running = () => daemons.filter((d) => d.pid !== undefined);

async function until<T>(check: () => Promise<T | undefined | false>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}\n${daemons.map((d) => d.tail(15)).join('\n---\n')}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  redis = await startRedis({ persist: true });
  // The same seed: both deployments hand out the same job ids, which must not be confused.
  for (const name of DEPLOYMENTS) sims[name] = await startSimulator({ seed: 16 });
  receiver = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const { type, data } = JSON.parse(body) as { type: string; data: Snapshot };
    deliveries.push({
      id: String(req.headers['webhook-id']),
      type,
      jobid: data.jobid,
      deployment: data.deployment,
    });
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  t = tempDir('jobwatch-cluster-');
  for (let i = 0; i < 3; i += 1) {
    const port = await freePort();
    const config = t.file(
      `daemon-${i}.json`,
      JSON.stringify({
        listen: `127.0.0.1:${port}`,
        dataDir: join(t.dir, `data-${i}`),
        apiKeys: [KEY],
        logLevel: 'info',
        store: { kind: 'redis', url: redis.url },
        cluster: { leasePeriod: `${LEASE_MS}ms` },
        deployments: DEPLOYMENTS.map((name) => ({
          name,
          url: sims[name].adminUrl,
          username: 'admin',
          passwordEnv: 'JOBWATCH_TEST_PASSWORD',
          budget: BUDGET,
          pacing: {
            minInterval: `${PACING.minInterval}ms`,
            maxInterval: `${PACING.maxInterval}ms`,
          },
        })),
        webhooks: [
          {
            url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
            secret: 'a-webhook-secret-of-some-length',
            events: ['terminal'],
          },
        ],
        webhookRetry: { base: '100ms', max: '500ms' },
      }),
    );
    daemons.push(
      new DaemonProcess({
        args: ['serve', '--config', config],
        env: { JOBWATCH_TEST_PASSWORD: 'admin' },
        url: `http://127.0.0.1:${port}`,
      }),
    );
  }
  await Promise.all(daemons.map((d) => d.start()));
});

afterAll(async () => {
  await Promise.all(running().map((d) => d.stop('SIGTERM')));
  await new Promise((r) => receiver?.close(r));
  for (const sim of Object.values(sims)) await sim.close();
  await redis?.close();
  t?.cleanup();
});

describe('three daemons sharing one Redis', () => {
  it('share the two deployments: each is polled by exactly one daemon', async () => {
    const held = () =>
      Promise.all(daemons.map(async (d) => sample(await metricsOf(d), 'jobwatch_leases_held')));
    // Two deployments, three daemons: each ends up holding at most its share (one); the first
    // to start took both, and gives one away once it counts the others.
    await until(async () => (await held()).every((n) => n <= 1), LEASE_MS * 3, 'a fair share each');
    for (const name of DEPLOYMENTS)
      await until(
        async () => (await holders(name)).length === 1,
        LEASE_MS,
        `one holder of ${name}`,
      );
    expect((await held()).reduce((a, b) => a + b, 0)).toBe(2);
    // Each counts the three live daemons from its next heartbeat on.
    for (const d of daemons)
      await until(
        async () => sample(await metricsOf(d), 'jobwatch_cluster_daemons') === 3,
        LEASE_MS,
        'three live daemons',
      );
  });

  it('lose nothing when a daemon is killed and Redis restarts mid-run', {
    timeout: 60_000,
  }, async () => {
    // Every daemon has a stream client; job ends are counted on each.
    const streams = new Map<DaemonProcess, Stream>();
    for (const d of daemons) streams.set(d, await openSse(`${d.url}/api/events`, auth));
    await Promise.all([...streams.values()].map((s) => s.until(() => s.ready.length > 0)));

    // Jobs of 2–11 s on each deployment, registered round robin through every daemon: most
    // through a daemon that does not poll that deployment.
    const jobs: Array<{ deployment: DeploymentName; jobid: string }> = [];
    for (const deployment of DEPLOYMENTS)
      for (let i = 0; i < JOBS_PER_DEPLOYMENT; i += 1)
        jobs.push({
          deployment,
          jobid: sims[deployment].createJob({
            outcome: i === 3 ? 'FAILED' : 'COMPLETED',
            durationMs: 2_000 + i * 1_300,
          }),
        });
    const registeredAt = Date.now();
    const before = Object.fromEntries(
      DEPLOYMENTS.map((n) => [n, sims[n].stats().byRoute.job]),
    ) as Record<DeploymentName, number>;
    for (const [i, job] of jobs.entries()) {
      const res = await fetch(`${(daemons[i % 3] as DaemonProcess).url}/api/jobs`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(job),
      });
      expect(res.status, await res.text()).toBe(201);
    }

    // When each job was polled, sampled every 50 ms from the simulators' per-job counts.
    const polls = new Map<string, number[]>();
    const counts = new Map<string, number>();
    const sampler = setInterval(() => {
      const at = Date.now();
      for (const job of jobs) {
        const n = sims[job.deployment].stats().byJob[job.jobid] ?? 0;
        if (n > (counts.get(jobKey(job)) ?? 0)) {
          counts.set(jobKey(job), n);
          polls.set(jobKey(job), [...(polls.get(jobKey(job)) ?? []), at]);
        }
      }
    }, 50);

    try {
      // Mid-run: the daemon polling `east` dies without a word.
      await until(
        async () => (await sims.east.stats().byRoute.job) - before.east > 10,
        10_000,
        'east to be polled',
      );
      const [victim] = await holders('east');
      if (!victim) throw new Error('nobody holds east');
      const victimStream = streams.get(victim) as Stream;
      expect(await victim.stop('SIGKILL')).toBe('SIGKILL');
      await victimStream.done;
      const lastSeen = victimStream.events.at(-1)?.id ?? '0';
      // Its stream client reconnects to another daemon and asks for what it missed.
      const heir = running()[0] as DaemonProcess;
      const resumed = await openSse(`${heir.url}/api/events`, {
        ...auth,
        'last-event-id': lastSeen,
      });
      const [newHolder] = await until(
        async () => {
          const found = await holders('east');
          return found.length === 1 ? found : undefined;
        },
        LEASE_MS * 4,
        'a takeover of east',
      );
      expect(
        sample(await metricsOf(newHolder as DaemonProcess), 'jobwatch_lease_takeovers_total', {
          deployment: 'east',
        }),
      ).toBe(1);
      // Mid-run again: Redis restarts (its append-only file keeps what was written).
      await redis.restart();

      // Every job ends on every stream (the resumed one with what its first connection got).
      const survivors = running();
      const terminalIds = (events: Stream['events']) => {
        const byJob = new Map<string, Set<string>>();
        for (const e of events) {
          if (e.event !== 'snapshot') continue;
          const s = JSON.parse(e.data) as Snapshot;
          if (!s.terminal) continue;
          byJob.set(jobKey(s), (byJob.get(jobKey(s)) ?? new Set()).add(String(e.id)));
        }
        return byJob;
      };
      const clients = [
        ...survivors.map((d) => ({ name: d.url, events: () => (streams.get(d) as Stream).events })),
        { name: 'reconnected', events: () => [...victimStream.events, ...resumed.events] },
      ];
      await until(
        async () => clients.every((c) => terminalIds(c.events()).size === jobs.length),
        40_000,
        'every job to end on every stream',
      );
      for (const c of clients) {
        const ends = terminalIds(c.events());
        // Exactly once: one terminal event (by id, duplicates by id collapsed) per job.
        for (const job of jobs)
          expect(ends.get(jobKey(job))?.size, `${c.name} ${jobKey(job)}`).toBe(1);
        expect(c.events().filter((e) => e.event === 'resync')).toEqual([]);
      }
      // The same event, whichever daemon a client listens to.
      const reference = terminalIds(clients[0]?.events() ?? []);
      for (const c of clients.slice(1)) expect(terminalIds(c.events()), c.name).toEqual(reference);

      // The receiver: one terminal delivery id per job, whatever the retries.
      await until(
        async () =>
          new Set(deliveries.filter((d) => d.type === 'job.terminal').map(jobKey)).size ===
          jobs.length,
        20_000,
        'every terminal webhook',
      );
      for (const job of jobs) {
        const ids = new Set(
          deliveries
            .filter((d) => jobKey(d) === jobKey(job) && d.type === 'job.terminal')
            .map((d) => d.id),
        );
        expect(ids.size, jobKey(job)).toBe(1);
      }
      expect(deliveries.filter((d) => d.type === 'job.watch_failed')).toEqual([]);

      // No job went unpolled for longer than a lease period, a renewal tick and its pacing
      // (its longest interval, and the wait its deployment's budget can add with every job
      // due at once), with the sampler's resolution on both ends.
      clearInterval(sampler);
      const allowance =
        LEASE_MS + TICK_MS + PACING.maxInterval + (JOBS_PER_DEPLOYMENT / BUDGET.rate) * 1_000 + 100;
      for (const job of jobs) {
        const times = polls.get(jobKey(job)) ?? [];
        expect(times.length, jobKey(job)).toBeGreaterThan(1);
        const gaps = times.slice(1).map((at, i) => at - (times[i] as number));
        expect(Math.max(...gaps), `${job.deployment}/${job.jobid}`).toBeLessThanOrEqual(allowance);
      }

      // Each deployment's requests, all daemons together, within its budget: the rate over
      // the run, plus one burst (the bucket is full when a daemon starts polling) for the
      // holder at the start and for each daemon that started polling it since.
      const seconds = (Date.now() - registeredAt) / 1_000;
      for (const name of DEPLOYMENTS) {
        const requests = sims[name].stats().byRoute.job - before[name];
        const starts = daemons
          .flatMap((d) => d.lines)
          .map((l) => {
            try {
              return JSON.parse(l.text) as { msg?: string; deployment?: string; time?: string };
            } catch {
              return {};
            }
          })
          .filter(
            (l) =>
              /^lease (acquired|taken over)$/.test(l.msg ?? '') &&
              l.deployment === name &&
              Date.parse(l.time ?? '') >= registeredAt,
          ).length;
        expect(requests, name).toBeGreaterThan(JOBS_PER_DEPLOYMENT);
        expect(requests, name).toBeLessThanOrEqual(BUDGET.rate * (seconds + 1 + starts));
      }
      await resumed.close();
    } finally {
      clearInterval(sampler);
      for (const s of streams.values()) await s.close();
    }
  });

  it('a daemon stopped past its lease loses its deployment and, resumed, stops polling it', async () => {
    const [stale] = await until(
      async () => {
        const found = await holders('west');
        return found.length === 1 ? found : undefined;
      },
      LEASE_MS * 4,
      'a holder of west',
    );
    if (!stale) throw new Error('nobody holds west');
    // Jobs that run through the pause, so the stale daemon has something to write when it wakes.
    const ids = [0, 1, 2].map(() =>
      sims.west.createJob({ outcome: 'COMPLETED', durationMs: 1_500 }),
    );
    for (const jobid of ids)
      await fetch(`${stale.url}/api/jobs`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ deployment: 'west', jobid }),
      });
    const pid = stale.pid as number;
    process.kill(pid, 'SIGSTOP');
    try {
      const others = running().filter((d) => d !== stale);
      await until(
        async () => (await holders('west', others)).length === 1,
        LEASE_MS * 4,
        'another daemon to take west over',
      );
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // Resumed, it learns it lost the lease (renewal, or the store refusing its write) and
    // stops polling west; the new holder records every end once.
    await until(async () => (await holders('west')).length === 1, LEASE_MS * 2, 'one holder');
    const text = await metricsOf(stale);
    expect(sample(text, 'jobwatch_leases_held', { deployment: 'west' })).toBe(0);
    const refused = sample(text, 'jobwatch_fenced_writes_total', { deployment: 'west' });
    const lost = sample(text, 'jobwatch_lease_renew_failures_total', {
      deployment: 'west',
      reason: 'lost',
    });
    expect(refused + lost).toBeGreaterThan(0);
    const anyone = running()[0] as DaemonProcess;
    for (const jobid of ids)
      await until(
        async () =>
          (
            (await (
              await fetch(`${anyone.url}/api/deployments/west/jobs/${jobid}`, { headers: auth })
            ).json()) as { state?: string }
          ).state === 'finished',
        10_000,
        `${jobid} to finish`,
      );
    // Each end once in the shared log, whoever wrote it.
    const log = await openSse(`${anyone.url}/api/events?deployment=west`, {
      ...auth,
      'last-event-id': '0',
    });
    await log.until((events) =>
      ids.every((id) => events.some((e) => e.event === 'snapshot' && e.data.includes(id))),
    );
    await log.close();
    for (const jobid of ids) {
      const ends = log.events.filter((e) => {
        if (e.event !== 'snapshot') return false;
        const s = JSON.parse(e.data) as Snapshot;
        return s.jobid === jobid && s.terminal;
      });
      expect(ends, jobid).toHaveLength(1);
    }
  });
});
