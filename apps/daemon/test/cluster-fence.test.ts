/**
 * Fencing, end to end inside one process: two daemon cores on one real `redis-server`. The
 * first stops renewing its lease (as a daemon does that paused, or lost Redis, while its poll
 * loops went on); the lease runs out and the second takes the deployment over. The first
 * still polls and, when the job ends, writes with its old token: the store refuses it, the
 * refusal is counted, the first stops polling at once, and the job's end is recorded once,
 * by the second.
 */
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { type RedisServer, startRedis } from '@jobwatch/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clusterScope } from '../src/cluster/scope.js';
import { resolveServeConfig, type ServeConfig } from '../src/config.js';
import { createDaemon, type Daemon } from '../src/daemon.js';
import { createLogger } from '../src/log.js';
import { createMetrics, type Metrics } from '../src/metrics.js';
import { openRedisStore, type RedisStore } from '../src/store/redis.js';
import type { StoredEvent } from '../src/store/store.js';
import { tempDir } from './helpers.js';

const LEASE_MS = 400;
let redis: RedisServer;
let sim: Simulator;
let t: ReturnType<typeof tempDir>;
/** The configuration of one deployment, `site`, polled between `pacing`'s bounds. */
let configWith: (pacing: string) => ServeConfig;

beforeAll(async () => {
  redis = await startRedis();
  sim = await startSimulator({ clock: 'manual', seed: 16 });
  t = tempDir();
  configWith = (pacing) =>
    resolveServeConfig(
      {
        config: t.file(
          'config.yaml',
          [
            'listen: 127.0.0.1:0',
            'deployments:',
            '  - name: site',
            `    url: ${sim.adminUrl}`,
            '    username: admin',
            '    passwordEnv: PW',
            `    pacing: ${pacing}`,
          ].join('\n'),
        ),
      },
      { PW: 'admin' },
    );
});
afterAll(async () => {
  await sim?.close();
  await redis?.close();
  t?.cleanup();
});

const held = async (metrics: Metrics) =>
  (await metrics.leasesHeld.get()).values.find((v) => v.labels.deployment === 'site')?.value ?? 0;
const count = async (metric: Metrics['fencedWrites'] | Metrics['leaseTakeovers']) =>
  (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
/** Polls answered (an aborted request counts as a poll with outcome `aborted`, not `ok`). */
const answered = async (metrics: Metrics) =>
  (await metrics.polls.get()).values
    .filter((v) => v.labels.outcome === 'ok')
    .reduce((sum, v) => sum + v.value, 0);

async function until(check: () => Promise<boolean> | boolean, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A daemon core on the Redis store, sharing work; `tickMs` long means it never renews. The
 * stale one polls every 20–50 ms, the heir every 2 s, so that the stale one sees the job's end
 * first.
 */
async function daemon(tickMs?: number) {
  const config = configWith(
    tickMs ? '{ minInterval: 20ms, maxInterval: 50ms }' : '{ minInterval: 2s, maxInterval: 2s }',
  );
  const logger = createLogger({ level: 'silent' });
  const metrics = createMetrics();
  const store: RedisStore = await openRedisStore({ url: redis.url, logger, metrics });
  const scope = clusterScope({
    deployments: ['site'],
    redis: store.redis,
    prefix: store.keys.prefix,
    leasePeriodMs: LEASE_MS,
    logger,
    metrics,
    ...(tickMs ? { tickMs } : {}),
  });
  const core: Daemon = createDaemon({ config, store, logger, metrics, scope });
  await core.start();
  return { core, store, metrics };
}

it('refuses the write of a daemon whose lease passed on, which then stops polling; the end is recorded once', async () => {
  const jobid = sim.createJob({ outcome: 'COMPLETED', durationMs: 60_000 });
  const running = sim.createJob({ outcome: 'COMPLETED', durationMs: 3_600_000 });
  const stale = await daemon(3_600_000);
  expect(await held(stale.metrics)).toBe(1);
  await stale.core.watch({ deployment: 'site', jobid });
  await stale.core.watch({ deployment: 'site', jobid: running });
  await until(async () => (await answered(stale.metrics)) > 0, 5_000, 'the first poll');

  // Its lease runs out (it never renews); the other daemon takes the deployment over.
  await until(
    async () => (await stale.store.redis.exists(stale.store.keys.lease('deployment:site'))) === 0,
    5_000,
    'the lease to run out',
  );
  const heir = await daemon();
  expect(await held(heir.metrics)).toBe(1);
  expect(await count(heir.metrics.leaseTakeovers)).toBe(1);
  await until(async () => (await answered(heir.metrics)) >= 2, 5_000, 'the heir to poll both');
  const ends: StoredEvent[] = [];
  heir.store.subscribe((e) => {
    if (e.snapshot?.terminal) ends.push(e);
  });

  // The job ends; both poll it, the stale daemon first: its write is refused and counted,
  // and it stops polling at once.
  sim.advance(60_000);
  await until(async () => (await count(stale.metrics.fencedWrites)) > 0, 5_000, 'a fenced write');
  expect(await held(stale.metrics)).toBe(0);
  const pollsAfter = await answered(stale.metrics);
  await until(() => ends.length > 0, 10_000, 'the end recorded by the heir');
  // The heir goes on polling the job still running; the stale daemon polls nothing more.
  const heirPolls = await answered(heir.metrics);
  await until(
    async () => (await answered(heir.metrics)) >= heirPolls + 1,
    10_000,
    'the heir to poll on',
  );
  expect(await answered(stale.metrics)).toBe(pollsAfter);
  // Once, by the holder: one terminal event, the job finished.
  expect(ends).toHaveLength(1);
  expect((await heir.store.get({ deployment: 'site', jobid }))?.state).toBe('finished');
  const replay = await heir.store.eventsSince(0, {}, 100);
  expect(
    replay.kind === 'events' ? replay.events.filter((e) => e.snapshot?.terminal).length : -1,
  ).toBe(1);

  await stale.core.close();
  await heir.core.close();
});
