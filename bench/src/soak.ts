/**
 * Soak: one `jobwatch serve` process watching a steady population of jobs on the simulator,
 * with faults injected, for a long time. Samples the daemon's memory (RSS and heap) and its
 * open handles, then reports the memory slope (least squares, MB/hour) and handle growth.
 *
 * Usage (from the repo root, after `pnpm build`):
 * `pnpm --filter jobwatch-bench soak [-- --minutes 60 --jobs 5000 --fault-rate 0.2]`.
 *
 * The population is kept at `--jobs` in flight: every few seconds, jobs that have ended on the
 * simulator are replaced by new ones registered through `POST /api/jobs`. Durations are
 * log-uniform between 1 and 20 minutes of real time. Samples are taken every minute, or every
 * 10 s when the run is shorter than 15 minutes; the first fifth of the run (at least one
 * sample) is warm-up and left out of the slope. Writes `results/soak.json`.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createRandom,
  FAULT_KINDS,
  logUniform,
  type Simulator,
  startSimulator,
} from '@jobwatch/simulator';
import { metric, startDaemon } from './daemon-process.js';
import { machineInfo } from './runner.js';
import { slope, tcpPorts } from './soak-figures.js';

const KEY = 'soak-key-0123456789abcdef';

/** The soak's command line. */
interface SoakArgs {
  minutes: number;
  jobs: number;
  faultRate: number;
  clients: number;
}

const USAGE =
  'usage: soak [--minutes <n>=60] [--jobs <n>=5000] [--fault-rate <0..1>=0.2] [--clients <n>=20]';

function parseSoakArgs(argv: readonly string[]): SoakArgs {
  const args: SoakArgs = { minutes: 60, jobs: 5000, faultRate: 0.2, clients: 20 };
  const number = (name: string, value: string | undefined, min: number, max: number) => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < min || n > max)
      throw new Error(`${name}: expected a number from ${min} to ${max}, got ${value}\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') continue;
    if (arg === '--minutes') args.minutes = number(arg, argv[++i], 0.5, 24 * 60);
    else if (arg === '--jobs') args.jobs = Math.round(number(arg, argv[++i], 1, 100_000));
    else if (arg === '--fault-rate') args.faultRate = number(arg, argv[++i], 0, 1);
    else if (arg === '--clients') args.clients = Math.round(number(arg, argv[++i], 0, 10_000));
    else throw new Error(`unknown argument: ${arg}\n${USAGE}`);
  }
  return args;
}

/** Opens a raw event-stream client that reads and discards; returns its closer. */
async function openClient(url: string): Promise<() => void> {
  const controller = new AbortController();
  const res = await fetch(`${url}/api/events`, {
    headers: { authorization: `Bearer ${KEY}` },
    signal: controller.signal,
  });
  if (res.status !== 200) throw new Error(`events: HTTP ${res.status}`);
  void (async () => {
    try {
      for await (const _ of res.body ?? []) {
        // discard
      }
    } catch {
      // closed
    }
  })();
  return () => controller.abort();
}

/** The daemon's open file descriptors by kind (Linux; from `/proc`). */
export interface FdKinds {
  /** TCP connections to the simulator (the admin API). */
  upstream: number;
  /** TCP connections to the daemon's own port (API and stream clients). */
  clients: number;
  /** Other sockets (listening, Unix). */
  sockets: number;
  /** Regular files (the database, its WAL, logs). */
  files: number;
  /** The rest: pipes, epoll, eventfd, timers. */
  other: number;
}

/** Counts a process's descriptors by kind; `undefined` where `/proc` cannot be read. */
function fdKinds(pid: number, upstreamPort: number, ownPort: number): FdKinds | undefined {
  try {
    const ports = new Map([
      ...tcpPorts(readFileSync(`/proc/${pid}/net/tcp`, 'utf8')),
      ...tcpPorts(readFileSync(`/proc/${pid}/net/tcp6`, 'utf8')),
    ]);
    const kinds: FdKinds = { upstream: 0, clients: 0, sockets: 0, files: 0, other: 0 };
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue; // closed between the listing and the read
      }
      const socket = /^socket:\[(\d+)\]$/.exec(target);
      if (socket) {
        const tcp = ports.get(socket[1] as string);
        if (tcp?.remote === upstreamPort) kinds.upstream += 1;
        else if (tcp?.local === ownPort && tcp.remote !== 0) kinds.clients += 1;
        else kinds.sockets += 1;
      } else if (target.startsWith('/')) kinds.files += 1;
      else kinds.other += 1;
    }
    return kinds;
  } catch {
    return undefined;
  }
}

interface Sample {
  /** Minutes since the start of sampling. */
  t: number;
  rssMb: number;
  heapMb: number;
  fds: number;
  fdKinds?: FdKinds | undefined;
  handles: number;
  watched: number;
}

async function main(): Promise<void> {
  const args = parseSoakArgs(process.argv.slice(2));
  const short = args.minutes < 15;
  const everyMs = short ? 10_000 : 60_000;
  const random = createRandom(8, 'soak');
  const sim: Simulator = await startSimulator({ seed: 8, retentionMs: 600_000 });
  const dir = mkdtempSync(join(tmpdir(), 'jobwatch-soak-'));
  const { child, url } = await startDaemon(
    {
      dataDir: dir,
      apiKeys: [KEY],
      deployments: [
        {
          name: 'soak',
          url: sim.adminUrl,
          username: 'admin',
          passwordEnv: 'JOBWATCH_SOAK_PASSWORD',
          budget: { concurrency: 32, rate: 500 },
        },
      ],
    },
    dir,
    // No heap cap, unlike the deploy files: a leak shows as growth rather than as GC pressure.
    { env: { JOBWATCH_SOAK_PASSWORD: 'admin' } },
  );
  // A daemon that dies mid-soak is the finding: stop at once and say so.
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `code ${code ?? 'none'}, signal ${signal ?? 'none'}`;
  });
  const alive = () => {
    if (exited) throw new Error(`the daemon exited during the soak (${exited})`);
  };
  const closers: Array<() => void> = [];
  const live = new Set<string>();
  const post = async (jobid: string) => {
    alive();
    let res: Response;
    try {
      res = await fetch(`${url}/api/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jobid }),
      });
    } catch (error) {
      // A reset connection usually means the daemon died: let its exit be seen first.
      await new Promise((resolve) => setTimeout(resolve, 200));
      alive();
      throw error;
    }
    await res.arrayBuffer();
    if (res.status !== 201 && res.status !== 200) throw new Error(`POST /api/jobs: ${res.status}`);
  };

  let created = 0;
  const topUp = async () => {
    for (const id of live) {
      const status = sim.job(id)?.status;
      if (
        status === undefined ||
        ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED OUT'].includes(String(status))
      )
        live.delete(id);
    }
    const fresh: string[] = [];
    while (live.size + fresh.length < args.jobs) {
      const r = random();
      fresh.push(
        sim.createJob({
          outcome:
            r < 0.1 ? 'FAILED' : r < 0.15 ? 'CANCELLED' : r < 0.17 ? 'TIMED OUT' : 'COMPLETED',
          durationMs: logUniform(random, 60_000, 1_200_000),
          unavailableBlips: r > 0.9 ? 1 : 0,
        }),
      );
    }
    const queue = [...fresh];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let id = queue.shift(); id; id = queue.shift()) {
          await post(id);
          live.add(id);
          created += 1;
        }
      }),
    );
  };
  const samples: Sample[] = [];
  try {
    process.stderr.write(`soak: registering ${args.jobs} jobs…\n`);
    await topUp();
    sim.setFaults({ rate: args.faultRate, kinds: [...FAULT_KINDS], delayMs: 500 });
    for (let c = 0; c < args.clients; c++) closers.push(await openClient(url));
    const started = Date.now();
    const end = started + args.minutes * 60_000;
    const sample = async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      let fds = Number.NaN;
      try {
        fds = readdirSync(`/proc/${child.pid}/fd`).length;
      } catch {
        // not Linux
      }
      const kinds = fdKinds(
        child.pid as number,
        Number(new URL(sim.adminUrl).port),
        Number(new URL(url).port),
      );
      const s: Sample = {
        t: (Date.now() - started) / 60_000,
        rssMb: metric(text, 'process_resident_memory_bytes') / 2 ** 20,
        heapMb: metric(text, 'nodejs_heap_size_used_bytes') / 2 ** 20,
        fds,
        fdKinds: kinds,
        handles: metric(text, 'nodejs_active_resources_total'),
        watched: live.size,
      };
      samples.push(s);
      process.stderr.write(
        `soak: ${s.t.toFixed(1)} min  rss ${s.rssMb.toFixed(1)} MB  heap ${s.heapMb.toFixed(1)} MB  fds ${s.fds}${kinds ? ` (upstream ${kinds.upstream}, clients ${kinds.clients}, sockets ${kinds.sockets}, files ${kinds.files}, other ${kinds.other})` : ''}  resources ${s.handles}  jobs ${s.watched}\n`,
      );
    };
    await sample();
    let nextSample = started + everyMs;
    while (Date.now() < end) {
      alive();
      await new Promise((r) =>
        setTimeout(r, Math.min(5_000, Math.max(0, nextSample - Date.now()))),
      );
      await topUp();
      if (Date.now() >= nextSample) {
        await sample();
        nextSample += everyMs;
      }
    }
  } finally {
    for (const close of closers) close();
    if (!exited) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const warm = Math.max(1, Math.floor(samples.length / 5));
  const steady = samples.slice(warm);
  const perHour = (pick: (s: Sample) => number) =>
    slope(steady.map((s) => [s.t / 60, pick(s)] as const));
  const first = steady[0];
  const last = steady.at(-1);
  const result = {
    date: new Date().toISOString(),
    machine: machineInfo(),
    args,
    jobsCreated: created,
    sampleEveryMs: everyMs,
    warmupSamples: warm,
    rssSlopeMbPerHour: perHour((s) => s.rssMb),
    heapSlopeMbPerHour: perHour((s) => s.heapMb),
    fdGrowth: first && last ? last.fds - first.fds : Number.NaN,
    resourceGrowth: first && last ? last.handles - first.handles : Number.NaN,
    fdSlopePerHour: perHour((s) => s.fds),
    fdKindSlopesPerHour: Object.fromEntries(
      (['upstream', 'clients', 'sockets', 'files', 'other'] as const).map((k) => [
        k,
        perHour((s) => s.fdKinds?.[k] ?? Number.NaN),
      ]),
    ),
    maxRssMb: Math.max(...samples.map((s) => s.rssMb)),
    samples,
  };
  const out = new URL('../results/', import.meta.url);
  mkdirSync(out, { recursive: true });
  writeFileSync(new URL('soak.json', out), `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    [
      `soak: ${args.minutes} min, ${args.jobs} jobs in flight (${created} registered), faults ${args.faultRate}, ${args.clients} stream clients`,
      `memory slope (after ${warm} warm-up samples): RSS ${result.rssSlopeMbPerHour.toFixed(1)} MB/hour, heap ${result.heapSlopeMbPerHour.toFixed(1)} MB/hour; max RSS ${result.maxRssMb.toFixed(1)} MB`,
      `handles: open fds ${first?.fds} → ${last?.fds} (${result.fdGrowth >= 0 ? '+' : ''}${result.fdGrowth}), active resources ${first?.handles} → ${last?.handles} (${result.resourceGrowth >= 0 ? '+' : ''}${result.resourceGrowth})`,
      `fd slopes by kind, per hour: ${Object.entries(result.fdKindSlopesPerHour)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ')}`,
    ].join('\n'),
  );
}

await main();
