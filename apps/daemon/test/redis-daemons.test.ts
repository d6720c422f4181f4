/**
 * Two `jobwatch serve` processes (the built CLI) sharing one real `redis-server`: a stream
 * client that moves from one daemon to the other with `Last-Event-ID` gets exactly what it
 * missed; Redis stopped mid-run and started again loses no job's end; the Redis password
 * shows nowhere.
 */

import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { DaemonProcess, freePort, type RedisServer, startRedis } from '@jobwatch/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openSse, tempDir } from './helpers.js';

const PASSWORD = 'redis-pass-7f3e91c2';
let redis: RedisServer;
let sim: Simulator;
let t: ReturnType<typeof tempDir>;
const daemons: DaemonProcess[] = [];
let a: DaemonProcess;
let b: DaemonProcess;
let url: string;

/** A daemon on its own port and data directory; `viaFile` names Redis in the file, else in the environment. */
async function daemon(name: string, viaFile: boolean): Promise<DaemonProcess> {
  const port = await freePort();
  const config = t.file(
    `${name}.yaml`,
    [
      `listen: 127.0.0.1:${port}`,
      `dataDir: ${t.dir}/${name}`,
      'logLevel: debug',
      ...(viaFile ? ['store:', '  kind: redis', `  url: ${url}`] : []),
      'deployments:',
      '  - name: site',
      `    url: ${sim.adminUrl}`,
      '    username: admin',
      '    passwordEnv: PW',
      '    pacing: { minInterval: 50ms, maxInterval: 200ms }',
    ].join('\n'),
  );
  const d = new DaemonProcess({
    args: ['serve', '--config', config],
    env: { PW: 'admin', ...(viaFile ? {} : { JOBWATCH_REDIS_URL: url }) },
    url: `http://127.0.0.1:${port}`,
  });
  daemons.push(d);
  await d.start();
  return d;
}

beforeAll(async () => {
  // A user with a password, in the server's arguments so that it outlives a restart.
  redis = await startRedis({
    persist: true,
    args: ['--user', 'jobwatch', 'on', `>${PASSWORD}`, '~*', '&*', '+@all'],
  });
  const u = new URL(redis.url);
  u.username = 'jobwatch';
  u.password = PASSWORD;
  url = u.toString();
  sim = await startSimulator({ clock: 'manual', seed: 16 });
  t = tempDir();
  a = await daemon('a', false);
  b = await daemon('b', true);
});

afterAll(async () => {
  for (const d of daemons) if (d.pid !== undefined) await d.stop('SIGTERM');
  await sim?.close();
  await redis?.close();
  t?.cleanup();
});

const watch = async (d: DaemonProcess, jobid: string) => {
  const res = await fetch(`${d.url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jobid, deployment: 'site' }),
  });
  expect(res.status).toBeLessThan(300);
};

const state = async (d: DaemonProcess, jobid: string) =>
  ((await (await fetch(`${d.url}/api/jobs/${jobid}`)).json()) as { state?: string }).state;

it('serves every daemon’s events on every daemon, and a client that moves on with Last-Event-ID gets exactly what it missed', async () => {
  const first = sim.createJob({ outcome: 'COMPLETED', durationMs: 60_000 });
  const onB = await openSse(`${b.url}/api/events`);
  await watch(a, first); // through a; whichever holds the deployment's lease polls it
  const seen = await onB.until((events) =>
    events.some((e) => e.event === 'snapshot' && e.data.includes(first)),
  );
  const lastId = Number(seen.at(-1)?.id);
  await onB.close();

  // Missed while away: the job's end, and a second job with its first snapshots.
  sim.advance(60_000);
  await expect.poll(() => state(a, first), { timeout: 10_000 }).toBe('finished');
  const second = sim.createJob({ outcome: 'FAILED', durationMs: 60_000 });
  await watch(a, second);
  await expect.poll(() => state(b, second), { timeout: 10_000 }).toBe('watching');

  const all = await openSse(`${b.url}/api/events`, { 'last-event-id': '0' });
  const log = await all.until((events) => events.some((e) => e.data.includes(second)));
  await all.close();
  const missed = log.filter((e) => Number(e.id) > lastId);

  const onA = await openSse(`${a.url}/api/events`, { 'last-event-id': String(lastId) });
  await onA.until((events) => events.length >= missed.length);
  await onA.close();
  // (events that came after the replay above may follow)
  const got = onA.events.slice(0, missed.length);
  expect(got.map((e) => e.id)).toEqual(missed.map((e) => e.id));
  expect(got.map((e) => e.data)).toEqual(missed.map((e) => e.data));
  // ids go up by one: nothing skipped, nothing twice
  const ids = onA.events.map((e) => Number(e.id));
  expect(ids).toEqual(ids.map((_, i) => lastId + 1 + i));
  expect(onA.events.some((e) => e.data.includes(first) && e.data.includes('COMPLETED'))).toBe(true);
});

it('keeps polling while Redis is down, says so, and loses no job’s end', async () => {
  const onA = sim.createJob({ outcome: 'COMPLETED', durationMs: 60_000 });
  const onB = sim.createJob({ outcome: 'FAILED', durationMs: 60_000 });
  await watch(a, onA);
  await watch(b, onB);
  await expect.poll(() => state(b, onA), { timeout: 10_000 }).toBe('watching');
  await expect.poll(() => state(a, onB), { timeout: 10_000 }).toBe('watching');

  await redis.stop();
  for (const d of [a, b]) {
    await expect.poll(async () => (await fetch(`${d.url}/readyz`)).status).toBe(503);
    const ready = (await (await fetch(`${d.url}/readyz`)).json()) as { reason?: string };
    expect(ready.reason).toMatch(/^store unavailable/);
  }
  const polled = sim.stats().byJob[onA] ?? 0;
  sim.advance(60_000); // both jobs end while Redis is down
  // Polling goes on: the ends are found and held.
  await expect.poll(() => sim.stats().byJob[onA] ?? 0, { timeout: 10_000 }).toBeGreaterThan(polled);
  // The daemon holding the deployment's lease polls both jobs (the other polls none of them).
  const holder = await Promise.all(
    [a, b].map(async (d) =>
      (await text(`${d.url}/metrics`)).includes('jobwatch_leases_held{deployment="site"} 1'),
    ),
  );
  expect(holder.filter(Boolean)).toHaveLength(1);
  const polling = holder[0] ? a : b;
  await expect
    .poll(async () =>
      metric(await text(`${polling.url}/metrics`), 'jobwatch_store_buffered_transitions'),
    )
    .toBeGreaterThan(0);
  expect(metric(await text(`${a.url}/metrics`), 'jobwatch_store_up')).toBe(0);

  await redis.start();
  for (const d of [a, b])
    await expect.poll(async () => (await fetch(`${d.url}/readyz`)).status).toBe(200);
  await expect.poll(() => state(b, onA), { timeout: 10_000 }).toBe('finished');
  await expect.poll(() => state(a, onB), { timeout: 10_000 }).toBe('finished');
  const replay = await openSse(`${b.url}/api/events`, { 'last-event-id': '0' });
  const log = await replay.until(
    (events) =>
      events.some((e) => e.data.includes(onA) && e.data.includes('"COMPLETED"')) &&
      events.some((e) => e.data.includes(onB) && e.data.includes('"FAILED"')),
  );
  await replay.close();
  expect(log.filter((e) => e.data.includes(onA) && e.data.includes('"COMPLETED"'))).toHaveLength(1);

  const lines = [a, b].flatMap((d) => d.lines.map((l) => l.text));
  expect(lines.some((l) => l.includes('store unavailable'))).toBe(true);
  expect(lines.some((l) => l.includes('store available again'))).toBe(true);
  expect(lines.some((l) => l.includes('buffered transitions written'))).toBe(true);
});

it('never shows the Redis password: not in logs, /api answers, /readyz or metrics', async () => {
  const answers = await Promise.all(
    [a, b].flatMap((d) => [
      text(`${d.url}/api/jobs`),
      text(`${d.url}/metrics`),
      text(`${d.url}/readyz`),
      text(`${d.url}/api/openapi.json`),
    ]),
  );
  for (const answer of answers) expect(answer).not.toContain(PASSWORD);
  for (const d of [a, b]) for (const line of d.lines) expect(line.text).not.toContain(PASSWORD);
});

const text = async (u: string) => (await fetch(u)).text();

/** The value of an unlabelled metric in Prometheus text. */
function metric(body: string, name: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}
