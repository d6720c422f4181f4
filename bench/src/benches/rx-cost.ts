/**
 * Issue 5, benchmark 2: what watching costs, over real HTTP.
 *
 * The simulator runs in a child process (manual clock, so its 2,000 jobs never change), so
 * this process's CPU time is the watching side's alone. Two ways of polling the same jobs
 * with 8 requests in flight, alternated in rounds so machine drift hits both alike:
 *
 * - bare: `fetch` + `JSON.parse` in 8 loops, token in a header;
 * - jobwatch: a watcher over `@jobwatch/client` with a zero-wait pacing, so every loop polls
 *   as fast as its budget (8 in flight, no rate limit) lets it: scheduling, budget queue,
 *   validation, snapshots and all.
 *
 * - client alone: `client.getJob` in the same 8 loops, to tell the client's share (HTTP
 *   library, validation) from the watcher's own.
 *
 * All three use this process's fetch (one keep-alive dispatcher), 8 requests in flight,
 * `f=json` and the token in an `X-Esri-Authorization` header, and are timed warm over the
 * same number of answered polls, each after a full GC.
 *
 * Then memory: 2,000 jobs watched, each polled once and at rest; the heap after GC with them
 * minus the heap after GC once the watcher is closed, per job, the median of three.
 * Targets: ≤ 1.5× the bare loop's CPU per poll; ≤ 4 KB per watched job.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createAdminClient } from '@jobwatch/client';
import { createWatcher } from '@jobwatch/rx';
import type { Subscription } from 'rxjs';
import { type Benchmark, row } from '../harness.js';

const NAME = 'rx-cost';
const CONCURRENCY = 8;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function startSim(): Promise<{ adminUrl: string; child: ChildProcess }> {
  const bin = fileURLToPath(new URL('./bin.js', import.meta.resolve('@jobwatch/simulator')));
  const child = spawn(
    process.execPath,
    [bin, '--port', '0', '--manual-clock', '--quiet', '--token-ttl', '24h'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const adminUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('http'));
      if (line) resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`simulator exited (${code})`)));
  });
  return { adminUrl, child };
}

async function post(
  url: string,
  body: Record<string, string> | object,
  json = false,
): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded' },
    body: json
      ? JSON.stringify(body)
      : new URLSearchParams(body as Record<string, string>).toString(),
  });
  return response.json();
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const bench: Benchmark = {
  name: NAME,
  issue: 5,
  async run({ full }) {
    const jobCount = 2000;
    const pollsPerRound = full ? 10_000 : 3000;
    const rounds = 3;
    const { adminUrl, child } = await startSim();
    try {
      const origin = new URL(adminUrl).origin;
      const ids: string[] = [];
      for (let i = 0; i < jobCount; i++) {
        const made = (await post(
          `${origin}/__sim/jobs`,
          { outcome: 'COMPLETED', durationMs: 2_000_000_000 },
          true,
        )) as {
          jobid: string;
        };
        if (typeof made.jobid !== 'string')
          throw new Error(`simulator refused a job: ${JSON.stringify(made)}`);
        ids.push(made.jobid);
      }
      const { token } = (await post(`${origin}/arcgis/sharing/rest/generateToken`, {
        username: 'admin',
        password: 'admin',
        client: 'referer',
        referer: origin,
        expiration: '1440',
        f: 'json',
      })) as { token: string };
      const headers = { 'x-esri-authorization': `Bearer ${token}` };

      // Each variant runs `polls` answered requests and returns the CPU time they took.
      // A full GC first, so no variant pays for the garbage of the one before.
      const timed = async (work: () => Promise<void>) => {
        gc();
        const t = cpuMs();
        await work();
        return cpuMs() - t;
      };

      // Bare loop: 8 workers walk the ids round-robin.
      const bare = (polls: number) =>
        timed(async () => {
          let next = 0;
          const worker = async () => {
            while (next < polls) {
              const id = ids[next++ % ids.length];
              const response = await fetch(`${adminUrl}/jobs/${id}?f=json`, { headers });
              const body = JSON.parse(await response.text()) as { jobid?: string };
              if (body.jobid !== id) throw new Error(`bare loop: unexpected body for ${id}`);
            }
          };
          await Promise.all(Array.from({ length: CONCURRENCY }, worker));
        });

      // jobwatch: every job watched, zero pacing, the budget keeps 8 in flight. Timed once
      // every job has had its first poll (subscribing 2,000 streams is not a poll), over
      // answered polls only.
      let answered = 0;
      const counting: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        answered++;
        return response;
      };
      const client = createAdminClient({
        url: adminUrl,
        auth: { type: 'token', token },
        fetch: counting,
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
        const subs: Subscription[] = ids.map((id) =>
          watcher.watch(id).subscribe({ error: (e) => (failure = e) }),
        );
        await untilAnswered(answered + ids.length, failed);
        gc();
        const start = answered;
        const t = cpuMs();
        await untilAnswered(start + polls, failed);
        const cpu = cpuMs() - t;
        const done = answered - start;
        for (const s of subs) s.unsubscribe();
        watcher.close();
        if (failure) throw failure;
        // A few more may have been answered by the time the check saw the count.
        return (cpu * polls) / done;
      };

      // The client alone, in the same 8 loops: what jobwatch's own part adds is the rest.
      const clientAlone = (polls: number) =>
        timed(async () => {
          let next = 0;
          const worker = async () => {
            while (next < polls) await client.getJob(ids[next++ % ids.length]!);
          };
          await Promise.all(Array.from({ length: CONCURRENCY }, worker));
        });

      const variants = { bare, clientAlone, viaJobwatch };
      const cpu = { bare: 0, clientAlone: 0, viaJobwatch: 0 };
      const polls = { bare: 0, clientAlone: 0, viaJobwatch: 0 };
      for (let r = 0; r < rounds; r++) {
        for (const [name, run] of Object.entries(variants) as [
          keyof typeof variants,
          (n: number) => Promise<number>,
        ][]) {
          // Each variant is timed warm: right after an untimed run of its own. Whatever ran
          // before (the JIT's choices, sockets closed by a stopped watcher) costs the
          // untimed run. jobwatch's untimed part is every job's first poll.
          if (name !== 'viaJobwatch') await run(1000);
          cpu[name] += await run(pollsPerRound);
          polls[name] += pollsPerRound;
        }
      }
      const us = (name: keyof typeof variants) => (cpu[name] / polls[name]) * 1000;
      const bareUs = us('bare');
      const jwUs = us('viaJobwatch');

      // Memory per watched job at rest: each polled once, waiting for its next poll (a long
      // floor keeps requests out of flight while the heap is read). The figure is the heap
      // with every job watched minus the heap right after the same watcher is closed, both
      // after a full GC, so what the process held anyway (sockets, caches, JIT code) cancels
      // out; the median of three such pairs.
      const perJobRuns: number[] = [];
      for (let r = 0; r < 3; r++) {
        const watcher = createWatcher(client, {
          budget: { concurrency: CONCURRENCY, rate: Number.POSITIVE_INFINITY },
          pacing: { minInterval: 600_000, maxInterval: 600_000 },
        });
        const subs = ids.map((id) => watcher.watch(id).subscribe());
        const atRest = () => {
          const b = watcher.budget.stats();
          return (
            b.active === 0 && b.queued === 0 && ids.every((id) => watcher.current(id) !== undefined)
          );
        };
        while (!atRest()) await new Promise((resolve) => setTimeout(resolve, 10));
        await new Promise((resolve) => setTimeout(resolve, 50));
        gc();
        gc();
        const watching = process.memoryUsage().heapUsed;
        for (const sub of subs) sub.unsubscribe();
        watcher.close();
        await new Promise((resolve) => setTimeout(resolve, 50));
        gc();
        gc();
        perJobRuns.push((watching - process.memoryUsage().heapUsed) / jobCount / 1024);
      }
      const perJob = perJobRuns.sort((a, b) => a - b)[1] as number;

      return [
        row(NAME, 'bare fetch+JSON.parse: CPU per poll', bareUs, 'µs'),
        row(NAME, 'client alone: CPU per poll', us('clientAlone'), 'µs'),
        row(NAME, 'jobwatch: CPU per poll', jwUs, 'µs'),
        row(NAME, 'jobwatch / bare CPU per poll', jwUs / bareUs, '×', { atMost: 1.5 }),
        row(NAME, 'jobwatch / client alone CPU per poll', jwUs / us('clientAlone'), '×'),
        row(NAME, 'memory per watched job', perJob, 'KB', { atMost: 4 }),
      ];
    } finally {
      child.kill();
    }
  },
};
export default bench;
