/**
 * The fault campaign (issue 8): 200 jobs through the built daemon against the simulator on a
 * sped-up clock, with every fault kind at 20% on the ArcGIS routes, a 30-second upstream
 * outage (every ArcGIS request refused or reset), token revocations, three `kill -9` restarts
 * on the same data directory and port, a webhook receiver that fails 30% of deliveries and
 * goes away for a while, and 50 event-stream clients (half raw SSE readers, half
 * `fromDaemon` from `@jobwatch/rx`) that drop their connections at random and resume with
 * `Last-Event-ID`.
 *
 * Jobs reach the daemon both ways: discovery is on, and about half of them are also POSTed
 * to `/api/jobs` (so the two paths must agree on one record per job).
 *
 * Every random choice comes from one seed, printed at the start; replay a run with
 * `JOBWATCH_CAMPAIGN_SEED=<seed> pnpm --filter jobwatch-e2e test campaign`.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromDaemon } from '@jobwatch/rx';
import { isTerminalStatus, type Snapshot } from '@jobwatch/schema';
import { FAULT_KINDS, type JobEnd, type Simulator, startSimulator } from '@jobwatch/simulator';
import {
  between,
  DaemonProcess,
  freePort,
  logUniform,
  type Random,
  seededRandom,
  seedFrom,
} from '@jobwatch/test-utils';
import type { Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SseClient,
  sleep,
  startTokenProxy,
  startWebhookReceiver,
  type TokenProxy,
  type WebhookReceiver,
  waitFor,
} from '../src/index.js';

const SEED = seedFrom(process.env, 'JOBWATCH_CAMPAIGN_SEED');
const JOBS = 200;
const SPEED = 10; // simulated ms per wall ms
const RAW_CLIENTS = 25;
const RX_CLIENTS = 25;
const KILLS = 3;
const REVOCATIONS = 4;
const FAULT_RATE = 0.2;
/** Wall ms of the upstream outage: every ArcGIS request answered 503 or reset. */
const OUTAGE_MS = 30_000;
const WEBHOOK_FAIL_RATE = 0.3;
/** Wall ms over which the jobs are created. */
const CREATION_WINDOW = 35_000;
/** Longest life of one stream connection before a random drop. */
const MAX_CONNECTION_LIFE = 8_000;

const API_KEY = `campaign-key-${SEED.toString(16)}-0123456789`;
const PASSWORD = `campaign-pw-${SEED.toString(36)}-s3cr3t`;
const USERNAME = 'campaign';
const WEBHOOK_SECRET = `whsec_${Buffer.from(`campaign-webhook-secret-${SEED}`).toString('base64')}`;

/** Independent streams, so a change in one part of the scenario does not shift the others. */
const rng = {
  jobs: seededRandom(SEED ^ 0x1001),
  chaos: seededRandom(SEED ^ 0x2002),
  receiver: seededRandom(SEED ^ 0x3003),
  clients: seededRandom(SEED ^ 0x4004),
};

interface PlannedJob {
  readonly at: number;
  readonly outcome: JobEnd;
  readonly durationMs: number;
  readonly unavailableBlips: number;
  readonly post: boolean;
}

function planJobs(random: Random): PlannedJob[] {
  return Array.from({ length: JOBS }, () => {
    const r = random();
    return {
      at: between(random, 0, CREATION_WINDOW),
      outcome: (r < 0.55
        ? 'COMPLETED'
        : r < 0.75
          ? 'FAILED'
          : r < 0.9
            ? 'CANCELLED'
            : 'TIMED OUT') as JobEnd,
      durationMs: Math.round(logUniform(random, 5_000, 250_000)),
      unavailableBlips: random() < 0.3 ? 1 + Math.floor(random() * 2) : 0,
      post: random() < 0.5,
    };
  }).sort((a, b) => a.at - b.at);
}

/** `count` moments in [from, to) at least `gap` apart. */
function moments(random: Random, count: number, from: number, to: number, gap: number): number[] {
  for (;;) {
    const list = Array.from({ length: count }, () => between(random, from, to)).sort(
      (a, b) => a - b,
    );
    if (list.every((t, i) => i === 0 || t - (list[i - 1] as number) >= gap)) return list;
  }
}

interface RxClient {
  readonly snapshots: Snapshot[];
  /** Event-stream connections open now (seen through its fetch). */
  open: number;
  error: unknown;
  completed: boolean;
  subscription: Subscription;
}

interface JobView {
  readonly jobid: string;
  readonly state: string;
  readonly error?: { readonly code: string; readonly message: string };
  readonly snapshot: Snapshot | null;
}

describe('fault campaign: 200 jobs, faults, revocations, kill -9, flaky webhooks, flaky streams', () => {
  let sim: Simulator;
  let proxy: TokenProxy;
  let receiver: WebhookReceiver;
  let daemon: DaemonProcess;
  let dir: string;
  const raw: SseClient[] = [];
  const rx: RxClient[] = [];
  const tickets = new Set<string>();
  let chaos = true;
  let streamCuts = 0;

  beforeAll(async () => {
    console.log(
      `fault campaign seed ${SEED} (replay with JOBWATCH_CAMPAIGN_SEED=${SEED} pnpm --filter jobwatch-e2e test campaign)`,
    );
    sim = await startSimulator({
      seed: SEED,
      clock: { speed: SPEED },
      users: { [USERNAME]: PASSWORD },
      tokenTtlMs: 120_000, // 12 s of wall time: tokens also expire on their own
    });
    proxy = await startTokenProxy(sim.tokenUrl);
    receiver = await startWebhookReceiver({
      secret: WEBHOOK_SECRET,
      failRate: WEBHOOK_FAIL_RATE,
      random: rng.receiver,
    });
    dir = mkdtempSync(join(tmpdir(), 'jobwatch-campaign-'));
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, `${PASSWORD}\n`);
    chmodSync(passwordFile, 0o600);
    const port = await freePort();
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        listen: `127.0.0.1:${port}`,
        dataDir: join(dir, 'data'),
        apiKeys: [API_KEY],
        logLevel: 'debug',
        deployments: [
          {
            name: 'sim',
            url: sim.adminUrl,
            username: USERNAME,
            passwordFile,
            tokenUrl: proxy.tokenUrl,
            discover: true,
            listInterval: '1s',
            budget: { concurrency: 16, rate: 100 },
            pacing: { minInterval: '250ms', maxInterval: '2s' },
          },
        ],
        webhooks: [{ url: receiver.url, secret: WEBHOOK_SECRET, events: ['terminal'] }],
        webhookRetry: { base: '200ms', max: '2s', giveUpAfter: '1h' },
        events: { heartbeat: '2s' },
      }),
    );
    daemon = new DaemonProcess({
      args: ['serve', '--config', configFile],
      url: `http://127.0.0.1:${port}`,
    });
    await daemon.start();
  }, 60_000);

  afterAll(async () => {
    chaos = false;
    for (const c of raw) c.close();
    for (const c of rx) c.subscription.unsubscribe();
    if (daemon?.pid !== undefined) await daemon.stop('SIGKILL');
    await receiver?.close();
    await proxy?.close();
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const auth = { authorization: `Bearer ${API_KEY}` };

  /** POSTs a job to the daemon, retrying while it is down; resolves with the final status. */
  async function postJob(jobid: string): Promise<number> {
    for (let attempt = 0; attempt < 600; attempt++) {
      try {
        const res = await fetch(`${daemon.url}/api/jobs`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ jobid }),
        });
        await res.arrayBuffer();
        if (res.status < 500) return res.status;
      } catch {
        // the daemon is down or was killed mid-request: try again
      }
      await sleep(200);
    }
    return -1;
  }

  async function ticket(): Promise<string> {
    for (let attempt = 0; attempt < 300; attempt++) {
      try {
        const res = await fetch(`${daemon.url}/api/tickets`, { method: 'POST', headers: auth });
        const body = (await res.json()) as { ticket?: string };
        if (res.status === 201 && body.ticket) {
          tickets.add(body.ticket);
          return body.ticket;
        }
      } catch {
        // down: try again
      }
      await sleep(200);
    }
    throw new Error('no ticket from the daemon');
  }

  /**
   * A fetch for one `fromDaemon` client that counts its open event-stream connections and,
   * while chaos lasts, drops each at a random moment: the body fails as a network error would
   * (an abort would read as a deliberate close).
   */
  const cuttingFetch =
    (client: RxClient, random: Random): typeof fetch =>
    async (input, init) => {
      const controller = new AbortController();
      const outer = init?.signal;
      if (outer) {
        if (outer.aborted) controller.abort(outer.reason);
        else outer.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
      }
      const res = await fetch(input, { ...init, signal: controller.signal });
      if (!res.body) return res;
      const reader = res.body.getReader();
      let open = res.status === 200;
      const closed = () => {
        if (open) client.open -= 1;
        open = false;
      };
      if (open) client.open += 1;
      let cut: (error: Error) => void = () => {};
      const body = new ReadableStream<Uint8Array>({
        start(stream) {
          cut = (error) => {
            closed();
            try {
              stream.error(error);
            } catch {
              // already closed
            }
            controller.abort();
          };
        },
        async pull(stream) {
          try {
            const { done, value } = await reader.read();
            if (done) {
              closed();
              stream.close();
            } else stream.enqueue(value);
          } catch (error) {
            closed();
            stream.error(error);
          }
        },
        cancel: (reason) => {
          closed();
          return reader.cancel(reason);
        },
      });
      if (chaos) {
        setTimeout(
          () => {
            if (!chaos || !open) return;
            streamCuts += 1;
            cut(new TypeError('terminated: the connection dropped'));
          },
          1 + random() * MAX_CONNECTION_LIFE,
        ).unref();
      }
      return new Response(body, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
    };

  async function jobsOnDaemon(): Promise<JobView[]> {
    const res = await fetch(`${daemon.url}/api/jobs`, { headers: auth });
    if (res.status !== 200) throw new Error(`GET /api/jobs: HTTP ${res.status}`);
    return ((await res.json()) as { jobs: JobView[] }).jobs;
  }

  it('delivers every terminal transition exactly once to webhooks and streams, matching the simulator', async () => {
    // Stream clients, connected before the first job exists.
    for (let i = 0; i < RAW_CLIENTS; i++) {
      const client = new SseClient({
        url: `${daemon.url}/api/events`,
        headers: auth,
        random: rng.clients,
        maxLifeMs: MAX_CONNECTION_LIFE,
        chaos: () => chaos,
      });
      client.open();
      raw.push(client);
    }
    for (let i = 0; i < RX_CLIENTS; i++) {
      const client: RxClient = {
        snapshots: [],
        open: 0,
        error: undefined,
        completed: false,
        subscription: undefined as unknown as Subscription,
      };
      const withTicket = i % 2 === 0;
      client.subscription = fromDaemon(daemon.url, {
        ...(withTicket ? { ticket } : { headers: auth }),
        fetch: cuttingFetch(client, rng.clients),
        reconnectDelay: 200,
        maxReconnectDelay: 1_000,
      }).subscribe({
        next: (s) => client.snapshots.push(s),
        error: (e) => {
          client.error = e;
        },
        complete: () => {
          client.completed = true;
        },
      });
      rx.push(client);
    }

    // The scenario's timeline.
    sim.setFaults({ rate: FAULT_RATE, kinds: [...FAULT_KINDS], delayMs: 1_000 });
    const plan = planJobs(rng.jobs);
    // The outage falls while jobs are being created and watched; the kills come after it, so
    // that one run of the daemon sees the whole outage and logs its start and its end.
    const outageAt = between(rng.chaos, 8_000, 14_000);
    const outageEnd = outageAt + OUTAGE_MS;
    const kills = moments(rng.chaos, KILLS, outageEnd + 8_000, outageEnd + 26_000, 6_000);
    const revocations = moments(rng.chaos, REVOCATIONS, 3_000, 55_000, 2_000);
    const downAt = between(rng.chaos, 10_000, 35_000);
    const downFor = between(rng.chaos, 8_000, 15_000);
    type Action = { at: number; run: () => Promise<void> | void; what: string };
    const ids: string[] = [];
    const posted = new Map<string, Promise<number>>();
    const revokedAt: number[] = [];
    const killResults: Array<number | string> = [];
    const outage = { from: 0, to: 0, run: 0, upDuring: [] as Array<number | undefined> };
    const upGauge = async () => {
      const text = await (await fetch(`${daemon.url}/metrics`)).text();
      const value = /^jobwatch_deployment_up\{deployment="sim"\} (\d+)$/m.exec(text)?.[1];
      return value === undefined ? undefined : Number(value);
    };
    const actions: Action[] = [
      ...plan.map(
        (job): Action => ({
          at: job.at,
          what: 'create job',
          run: () => {
            const id = sim.createJob({
              outcome: job.outcome,
              durationMs: job.durationMs,
              unavailableBlips: job.unavailableBlips,
            });
            ids.push(id);
            if (job.post) posted.set(id, postJob(id));
          },
        }),
      ),
      ...kills.map(
        (at): Action => ({
          at,
          what: 'kill -9 and restart the daemon',
          run: async () => {
            killResults.push(await daemon.stop('SIGKILL'));
            await sleep(between(rng.chaos, 0, 2_000));
            await daemon.start();
          },
        }),
      ),
      ...revocations.map(
        (at): Action => ({
          at,
          what: 'revoke tokens',
          run: () => {
            revokedAt.push(Date.now());
            sim.revokeTokens();
          },
        }),
      ),
      {
        at: outageAt,
        what: 'upstream outage starts',
        run: () => {
          outage.from = Date.now();
          outage.run = daemon.runs;
          sim.setFaults({ rate: 1, kinds: ['http503', 'reset'] });
        },
      },
      {
        at: outageAt + OUTAGE_MS / 2,
        what: 'read the deployment gauge during the outage',
        run: async () => {
          outage.upDuring.push(await upGauge());
        },
      },
      {
        at: outageEnd,
        what: 'upstream outage ends',
        run: () => {
          sim.setFaults({ rate: FAULT_RATE, kinds: [...FAULT_KINDS], delayMs: 1_000 });
          outage.to = Date.now();
        },
      },
      { at: downAt, what: 'webhook receiver down', run: () => receiver.down() },
      { at: downAt + downFor, what: 'webhook receiver up', run: () => receiver.up() },
    ].sort((a, b) => a.at - b.at);

    const start = Date.now();
    for (const action of actions) {
      const wait = start + action.at - Date.now();
      if (wait > 0) await sleep(wait);
      await action.run();
    }
    expect(ids).toHaveLength(JOBS);
    // Each run lived until its kill: a daemon that exited on its own shows its last words.
    expect(
      killResults,
      daemon.lines
        .filter((l) => l.stream === 'stderr')
        .slice(-12)
        .map((l) => `run ${l.run}: ${l.text.slice(0, 200)}`)
        .join('\n'),
    ).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL']);

    // The outage: one run saw all of it, logged one warning when it started and one line,
    // with how long, when the server answered again; the gauge said 0 meanwhile.
    const logged = (msg: string) =>
      daemon.lines
        .filter((l) => l.run === outage.run && l.text.includes(`"msg":"${msg}"`))
        .map((l) => JSON.parse(l.text) as { time: string; [key: string]: unknown })
        .filter((l) => Date.parse(l.time) >= outage.from);
    await waitFor(() => logged('deployment recovered').length > 0, {
      timeoutMs: 30_000,
      what: () => `a "deployment recovered" line after the outage (${daemon.tail(5)})`,
    });
    const troubleStarted = logged('deployment in trouble').filter(
      (l) => Date.parse(l.time) < outage.to,
    );
    const recovered = logged('deployment recovered');
    expect(troubleStarted, 'one warning when the outage began').toHaveLength(1);
    expect(Date.parse(troubleStarted[0]?.time ?? '')).toBeLessThan(outage.to);
    expect(troubleStarted[0]).toMatchObject({
      level: 'warn',
      deployment: 'sim',
      code: 'TRANSPORT',
      attempts: expect.any(Number),
    });
    const end = recovered[0];
    expect(Date.parse(end?.time ?? '')).toBeGreaterThanOrEqual(outage.to);
    expect(end).toMatchObject({ level: 'info', deployment: 'sim', down: expect.any(String) });
    expect(Number(end?.downMs)).toBeGreaterThanOrEqual(OUTAGE_MS - 5_000);
    expect(Number(end?.downMs)).toBeLessThan(OUTAGE_MS + 30_000);
    expect(outage.upDuring).toEqual([0]);

    // Every job ends on the simulator, then on the daemon.
    const truth = () => new Map(ids.map((id) => [id, sim.job(id)]));
    await waitFor(() => ids.every((id) => isTerminalStatus(String(sim.job(id)?.status ?? ''))), {
      timeoutMs: 60_000,
      what: 'every job to end on the simulator',
    });
    let last: JobView[] = [];
    await waitFor(
      async () => {
        last = await jobsOnDaemon();
        const finished = new Set(last.filter((j) => j.state === 'finished').map((j) => j.jobid));
        // A watch that failed or stopped never comes back: no use waiting for it.
        return (
          ids.every((id) => finished.has(id)) ||
          last.some((j) => j.state !== 'watching' && j.state !== 'finished')
        );
      },
      {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: () =>
          `every job finished on the daemon (${last.filter((j) => j.state === 'finished').length}/${JOBS}; states ${JSON.stringify(
            last.reduce<Record<string, number>>((acc, j) => {
              acc[j.state] = (acc[j.state] ?? 0) + 1;
              return acc;
            }, {}),
          )}; not finished: ${JSON.stringify(
            last
              .filter((j) => j.state !== 'finished')
              .slice(0, 5)
              .map((j) => ({
                jobid: j.jobid,
                state: j.state,
                error: j.error,
                status: j.snapshot?.status,
              })),
          )})`,
      },
    );
    expect(
      last
        .filter((j) => j.state !== 'watching' && j.state !== 'finished')
        .map((j) => ({ jobid: j.jobid, state: j.state, error: j.error })),
      'watches that ended without the job ending',
    ).toEqual([]);
    // Stop the chaos; every delivery and every stream must then catch up.
    chaos = false;
    const terminalIds = (list: ReadonlyArray<{ jobid: string; terminal: boolean }>) =>
      new Set(list.filter((s) => s.terminal).map((s) => s.jobid));
    await waitFor(
      () => {
        const got = new Set(
          receiver.accepted.filter((d) => d.type === 'job.terminal').map((d) => d.jobid),
        );
        return ids.every((id) => got.has(id));
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'a terminal webhook for every job' },
    );
    await waitFor(
      () =>
        raw.every((c) => terminalIds(c.events.map((e) => e.data)).size >= JOBS) &&
        rx.every((c) => c.error !== undefined || terminalIds(c.snapshots).size >= JOBS),
      {
        timeoutMs: 30_000,
        intervalMs: 250,
        what: () =>
          `every stream client to see every terminal event (raw: ${raw
            .map((c) => terminalIds(c.events.map((e) => e.data)).size)
            .join(',')}; rx: ${rx.map((c) => terminalIds(c.snapshots).size).join(',')})`,
      },
    );

    // Recovered for good: the gauge says so.
    expect(await upGauge()).toBe(1);

    // A clean shutdown ends every stream with `event: end`.
    await waitFor(() => raw.every((c) => c.connected) && rx.every((c) => c.open === 1), {
      timeoutMs: 10_000,
      what: () =>
        `every stream client connected before shutdown (raw: ${raw.filter((c) => !c.connected).length} not; rx open: ${rx.map((c) => c.open).join(',')})`,
    });
    expect(await daemon.stop('SIGTERM')).toBe(0);
    await waitFor(() => raw.every((c) => c.ended) && rx.every((c) => c.completed || c.error), {
      timeoutMs: 15_000,
      what: () =>
        `every stream to end (raw not ended: ${raw
          .flatMap((c, i) => (c.ended ? [] : [`#${i} connected=${c.connected}`]))
          .join(', ')}; rx not ended: ${rx
          .flatMap((c, i) => (c.completed || c.error ? [] : [`#${i}`]))
          .join(', ')})`,
    });

    const sim$ = truth();
    const known = new Set(ids);
    // From here on each property is checked on its own (soft), so one run reports every
    // property that does not hold, not just the first.

    // Webhooks: exactly one terminal message per job after deduplicating by webhook-id, each
    // signed, each carrying the simulator's final status.
    expect.soft(receiver.invalid).toEqual([]);
    expect.soft(receiver.failed).toBeGreaterThan(0);
    const messageIds = new Map<string, Set<string>>();
    for (const d of receiver.accepted) {
      expect.soft(known.has(d.jobid), `webhook for a job nobody created: ${d.jobid}`).toBe(true);
      if (d.type !== 'job.terminal') continue;
      const set = messageIds.get(d.jobid) ?? new Set<string>();
      messageIds.set(d.jobid, set);
      set.add(d.id);
      expect.soft(d.status, `webhook status of ${d.jobid}`).toBe(sim$.get(d.jobid)?.status);
    }
    const notOnce = ids.filter((id) => messageIds.get(id)?.size !== 1);
    expect
      .soft(notOnce.map((id) => `${id}: ${messageIds.get(id)?.size ?? 0} distinct webhook-ids`))
      .toEqual([]);

    // Streams: each client saw each job's terminal event exactly once, with the right status,
    // ids only rising, and no resync (the retained window is a day).
    const streamProblems: string[] = [];
    const checkTerminals = (
      name: string,
      list: ReadonlyArray<{ jobid: string; terminal: boolean; status: string | null }>,
    ) => {
      const count = new Map<string, number>();
      for (const s of list) {
        if (!s.terminal) continue;
        count.set(s.jobid, (count.get(s.jobid) ?? 0) + 1);
        if (s.status !== sim$.get(s.jobid)?.status)
          streamProblems.push(
            `${name}: ${s.jobid} ended ${s.status}, simulator says ${sim$.get(s.jobid)?.status}`,
          );
      }
      for (const id of ids)
        if (count.get(id) !== 1)
          streamProblems.push(`${name}: ${id} terminal ${count.get(id) ?? 0} times`);
    };
    /** What the daemon said about one job: its events as a raw client saw them, and its log lines. */
    const evidence = (jobid: string) => ({
      events: (raw[0]?.events ?? [])
        .filter((e) => e.data.jobid === jobid)
        .map((e) => {
          const d = e.data as unknown as Snapshot;
          return {
            id: e.id,
            status: d.status,
            stale: d.stale,
            updatedtime: d.job?.updatedtime,
            lastPolled: d.lastPolled,
          };
        }),
      log: daemon.lines
        .filter((l) => l.text.includes(jobid))
        .map((l) => `run ${l.run}: ${l.text.slice(0, 300)}`),
      restarts: daemon.lines
        .filter((l) => l.text.includes('"daemon ready"'))
        .map((l) => `run ${l.run}: ${l.text.slice(0, 200)}`),
    });
    raw.forEach((c, i) => {
      checkTerminals(
        `raw#${i}`,
        c.events.map((e) => e.data),
      );
      if (c.outOfOrder.length)
        streamProblems.push(`raw#${i}: ids not rising ${JSON.stringify(c.outOfOrder.slice(0, 3))}`);
      if (c.problems.length) streamProblems.push(`raw#${i}: ${c.problems.slice(0, 3).join('; ')}`);
      if (c.resyncs) streamProblems.push(`raw#${i}: ${c.resyncs} resyncs`);
      if (c.ended?.reason !== 'shutdown') streamProblems.push(`raw#${i}: no end event`);
    });
    rx.forEach((c, i) => {
      if (c.error) streamProblems.push(`rx#${i}: stream error ${String(c.error)}`);
      else if (!c.completed) streamProblems.push(`rx#${i}: did not complete at shutdown`);
      checkTerminals(`rx#${i}`, c.snapshots);
    });
    const duplicated = /: (\S+) terminal [2-9]\d* times/.exec(streamProblems.join('\n'))?.[1];
    expect
      .soft(
        streamProblems.slice(0, 20),
        duplicated ? JSON.stringify(evidence(duplicated), null, 1) : undefined,
      )
      .toEqual([]);
    // The chaos really happened: connections were dropped and resumed.
    expect.soft(raw.reduce((n, c) => n + c.drops, 0)).toBeGreaterThan(RAW_CLIENTS);
    expect.soft(streamCuts).toBeGreaterThan(RX_CLIENTS);

    // The daemon's final state is the simulator's truth, one record per job, nothing else.
    const final = last;
    expect.soft(final.map((j) => j.jobid).sort()).toEqual([...ids].sort());
    const mismatches = final
      .filter((j) => {
        const t = sim$.get(j.jobid);
        return (
          j.state !== 'finished' ||
          j.snapshot?.status !== t?.status ||
          j.snapshot?.terminal !== true ||
          j.snapshot?.job?.endtime !== t?.endtime
        );
      })
      .map(
        (j) =>
          `${j.jobid}: ${j.state} ${j.snapshot?.status} vs ${String(sim$.get(j.jobid)?.status)}`,
      );
    expect.soft(mismatches).toEqual([]);
    for (const [id, status] of posted) expect(await status, `POST ${id}`).toBeOneOf([200, 201]);

    // Faults of every kind were injected, and every revocation was followed by a fresh token.
    const injected = sim.stats().faults;
    expect.soft(FAULT_KINDS.filter((k) => !(Number(injected[k]) > 0))).toEqual([]);
    for (const at of revokedAt)
      expect
        .soft(
          [...proxy.tokens.values()].some((seen) => seen > at),
          'a token generated after a revocation',
        )
        .toBe(true);

    // No secret in any line the daemon wrote, across all four runs.
    expect.soft(daemon.runs).toBe(KILLS + 1);
    expect.soft(proxy.tokens.size).toBeGreaterThan(KILLS);
    expect.soft(tickets.size).toBeGreaterThan(0);
    const secrets = [
      PASSWORD,
      API_KEY,
      WEBHOOK_SECRET,
      WEBHOOK_SECRET.slice('whsec_'.length),
      ...proxy.tokens.keys(),
      ...tickets,
    ];
    const leaks = daemon.lines
      .filter((l) => secrets.some((s) => l.text.includes(s)))
      .map((l) => `run ${l.run} ${l.stream}: ${l.text.slice(0, 160)}`);
    expect.soft(leaks).toEqual([]);
    expect.soft(daemon.lines.length).toBeGreaterThan(JOBS); // a transition line per change, at least
  }, 180_000);
});
