/**
 * The whole stack against a server that answers as real ones do: the simulator with every
 * quirk on (about half of the jobs show each: message objects or a mix, results that are a
 * string, null, absent or `{error}`, `username: null`, no `operationURI`, ERROR for FAILED,
 * lower-case statuses, numeric-string times, typed service properties, extra fields) and a
 * token read only from `Authorization`. Jobs reach the built daemon by discovery; an event
 * stream (`fromDaemon`) and a webhook receiver listen; `jobwatch wait` checks a sample.
 *
 * No unexpected shape may cost a job's outcome: every job ends in the daemon as it ended on
 * the server, none is refused, every failed or cancelled one carries the reason its body
 * gives, to the API, the stream and the webhook alike, and `jobwatch wait` exits as the
 * contract says. Replay with `JOBWATCH_QUIRKS_SEED=<seed> pnpm --filter jobwatch-e2e test quirks`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromDaemon } from '@jobwatch/rx';
import { failureReason, jobOutcome, parseJob, type Snapshot } from '@jobwatch/schema';
import { type JobEnd, type Simulator, startSimulator } from '@jobwatch/simulator';
import { DAEMON_MAIN, DaemonProcess, freePort, seededRandom, seedFrom } from '@jobwatch/test-utils';
import type { Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver, waitFor } from '../src/index.js';

const SEED = seedFrom(process.env, 'JOBWATCH_QUIRKS_SEED');
const JOBS = 40;
const SPEED = 20; // simulated ms per wall ms
const API_KEY = `quirks-key-${SEED.toString(16)}-0123456789`;
const PASSWORD = `quirks-pw-${SEED.toString(36)}`;
const WEBHOOK_SECRET = `whsec_${Buffer.from(`quirks-webhook-secret-${SEED}`).toString('base64')}`;
const OUTCOMES: readonly JobEnd[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED OUT'];

interface JobView {
  readonly jobid: string;
  readonly state: string;
  readonly error?: { readonly code: string; readonly message: string };
  readonly snapshot: Snapshot | null;
}

/** `jobwatch wait` as a process: its exit code and standard error. */
function wait(args: readonly string[], env: Record<string, string>) {
  return new Promise<{ code: number | string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [DAEMON_MAIN, 'wait', ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('exit', (code, signal) => resolve({ code: code ?? signal ?? -1, stderr }));
  });
}

describe('quirks on, across the stack', () => {
  let sim: Simulator;
  let receiver: WebhookReceiver;
  let daemon: DaemonProcess;
  let dir: string;
  let stream: Subscription;
  const streamed: Snapshot[] = [];
  const auth = { authorization: `Bearer ${API_KEY}` };

  beforeAll(async () => {
    console.log(`quirks seed ${SEED}`);
    sim = await startSimulator({
      seed: SEED,
      clock: { speed: SPEED },
      users: { admin: PASSWORD },
      quirks: true,
      tokenHeader: 'authorization',
    });
    receiver = await startWebhookReceiver({ secret: WEBHOOK_SECRET });
    dir = mkdtempSync(join(tmpdir(), 'jobwatch-quirks-'));
    const port = await freePort();
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        listen: `127.0.0.1:${port}`,
        dataDir: join(dir, 'data'),
        apiKeys: [API_KEY],
        deployments: [
          {
            name: 'sim',
            url: sim.adminUrl,
            username: 'admin',
            passwordEnv: 'SIM_PASSWORD',
            discover: true,
            listInterval: '500ms',
            pacing: { minInterval: '250ms', maxInterval: '1s' },
          },
        ],
        webhooks: [{ url: receiver.url, secret: WEBHOOK_SECRET, events: ['terminal'] }],
        webhookRetry: { base: '100ms', max: '1s' },
      }),
    );
    daemon = new DaemonProcess({
      args: ['serve', '--config', configFile],
      env: { SIM_PASSWORD: PASSWORD, JOBWATCH_LOG_LEVEL: 'info' },
      url: `http://127.0.0.1:${port}`,
    });
    await daemon.start();
    stream = fromDaemon(daemon.url, { headers: auth }).subscribe({
      next: (s) => streamed.push(s),
    });
  }, 60_000);

  afterAll(async () => {
    stream?.unsubscribe();
    if (daemon?.pid !== undefined) await daemon.stop('SIGTERM');
    await receiver?.close();
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ends every job as the server did, with its reason everywhere, and wait exits by the contract', async () => {
    const random = seededRandom(SEED);
    const ids: string[] = Array.from({ length: JOBS }, () =>
      sim.createJob({
        outcome: OUTCOMES[Math.floor(random() * OUTCOMES.length)] as JobEnd,
        durationMs: 2_000 + Math.floor(random() * 40_000),
      }),
    );

    const jobs = async () =>
      (
        (await (await fetch(`${daemon.url}/api/jobs`, { headers: auth })).json()) as {
          jobs: JobView[];
        }
      ).jobs;
    const ended = await waitFor(
      async () => {
        const list = await jobs();
        const done = list.filter((j) => ids.includes(j.jobid) && j.state !== 'watching');
        return done.length === JOBS ? list : undefined;
      },
      { timeoutMs: 45_000, what: 'every job to end in the daemon' },
    );

    let warned = 0;
    for (const id of ids) {
      const view = ended.find((j) => j.jobid === id) as JobView;
      // No watch was lost to a shape: each one finished, none failed.
      expect([view.state, view.error]).toEqual(['finished', undefined]);
      const body = parseJob(sim.job(id));
      const snapshot = view.snapshot as Snapshot;
      expect(snapshot.terminal).toBe(true);
      expect(snapshot.outcome).toBe(jobOutcome(body.status));
      expect(snapshot.job?.status).toBe(body.status);
      const reason = failureReason(body);
      expect(snapshot.reason).toBe(reason);
      if (snapshot.outcome === 'failed' || snapshot.outcome === 'cancelled') {
        // Every failed or cancelled job of the simulator says why, whatever the quirks.
        expect(reason).toBeTruthy();
      }
      if (snapshot.warnings?.length) warned += 1;
      // The stream and the webhook carry the same end and the same reason.
      await waitFor(
        () => streamed.some((s) => s.jobid === id && s.terminal && s.reason === reason),
        { timeoutMs: 10_000, what: `the stream's end of ${id}` },
      );
      await waitFor(
        () =>
          receiver.accepted.some(
            (d) => d.jobid === id && JSON.parse(d.body).data.reason === reason,
          ),
        { timeoutMs: 10_000, what: `the webhook of ${id}` },
      );
    }
    // Numeric-string times show on about half of the jobs, as warnings, counted by place.
    expect(warned).toBeGreaterThan(0);
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toMatch(
      /jobwatch_schema_warnings_total\{deployment="sim",pointer="\/starttime"\} \d+/,
    );
    for (const id of ids) expect(metrics).not.toContain(id);

    // `jobwatch wait` on one job of each outcome: the contract's exit code, and the reason.
    const env = {
      JOBWATCH_URL: sim.adminUrl,
      JOBWATCH_USERNAME: 'admin',
      JOBWATCH_PASSWORD: PASSWORD,
    };
    const sample = new Map<string, string>();
    for (const id of ids) sample.set(jobOutcome(parseJob(sim.job(id)).status), id);
    const codes: Record<string, number> = { succeeded: 0, failed: 1, cancelled: 3 };
    for (const [outcome, id] of sample) {
      const r = await wait([id], env);
      expect(r.code, `${outcome} ${id}: ${r.stderr}`).toBe(codes[outcome]);
      const reason = failureReason(parseJob(sim.job(id)));
      if (reason) expect(r.stderr).toContain(`: ${reason}\n`);
    }
  });
});
