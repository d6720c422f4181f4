/**
 * The headless service's core: it turns watch requests into `@jobwatch/rx` subscriptions and
 * their snapshots into stored events, webhook deliveries, metrics and log lines. It holds no
 * pacing or retry logic: that is `@jobwatch/rx`'s.
 */
import { type AdminClient, createAdminClient } from '@jobwatch/client';
import { createWatcher, DurationModel, type DurationModelJSON, type Watcher } from '@jobwatch/rx';
import type { Snapshot } from '@jobwatch/schema';
import type { Subscription } from 'rxjs';
import type { Deployment, ServeConfig } from './config.js';
import { DeploymentHealth } from './health.js';
import type { Logger } from './log.js';
import { type Metrics, statusLabel } from './metrics.js';
import { loadModel, modelKindJSON } from './models.js';
import type { JobRecord, JobRef, Store } from './store/store.js';
import { createWarningReporter } from './warnings.js';
import {
  deliveriesFor,
  deliveriesForFailure,
  startWebhookDispatcher,
  type WebhookDispatcher,
} from './webhooks.js';

/** Options of {@link createDaemon}. */
export interface DaemonOptions {
  readonly config: ServeConfig;
  readonly store: Store;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Makes the admin client of a deployment. @default `createAdminClient` */
  readonly createClient?: (deployment: Deployment) => AdminClient;
  /** fetch used for webhooks. @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Why a watch request was refused. */
export type WatchRefusal = 'UNKNOWN_DEPLOYMENT' | 'SHUTTING_DOWN';

/** The running daemon core. */
export interface Daemon {
  /** Names of the configured deployments, in configuration order. */
  readonly deployments: readonly string[];
  /** Resumes every unfinished watch and starts discovery. Resolves when the daemon is ready. */
  start(): Promise<void>;
  /** Whether {@link start} has finished and the daemon is not shutting down. */
  ready(): boolean;
  /** Starts watching a job; persisted before it resolves. `created` is false when it was already watched. */
  watch(ref: JobRef): Promise<{ created: boolean; record: JobRecord } | { refused: WatchRefusal }>;
  /** Stops watching a job. Resolves `false` when it was not known. */
  unwatch(ref: JobRef): Promise<boolean>;
  /** What it has learned of how long each kind of job takes (`GET /api/models`). */
  models(): DurationModelJSON;
  /** Stops every watch, waits for pending writes and webhook attempts, closes the store. */
  close(): Promise<void>;
}

const keyOf = (ref: JobRef) => `${ref.deployment}\u0000${ref.jobid}`;

/** How long after a discovery that stopped (its listing refused, say) the daemon lists again. */
const DISCOVERY_RETRY_MS = 30_000;

/** Whether a terminal snapshot's job ended (by the server's clock) before `cutoff` epoch ms. */
function endedBefore(snapshot: Snapshot, cutoff: number): boolean {
  const end = snapshot.job?.endtime || snapshot.job?.updatedtime || 0;
  return snapshot.terminal && end > 0 && end < cutoff;
}

const codeOf = (error: unknown): string => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'INTERNAL';
};

/**
 * Wraps `getJob`/`getJobByUrl`/`readJob` to count polls and time them, and tells `health` (when given)
 * the outcome of those and of `listJobs`; everything else passes through.
 */
export function instrumentClient(
  client: AdminClient,
  metrics: Metrics,
  deployment: string,
  health?: DeploymentHealth,
): AdminClient {
  const observed =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        const result = await fn(...args);
        health?.ok();
        return result;
      } catch (error) {
        health?.failed(codeOf(error), error instanceof Error ? error.message : String(error));
        throw error;
      }
    };
  const timed =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const end = metrics.pollSeconds.startTimer({ deployment });
      try {
        const result = await fn(...args);
        metrics.polls.inc({ deployment, outcome: 'ok' });
        return result;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        metrics.polls.inc({
          deployment,
          outcome: typeof code === 'string' ? code.toLowerCase() : 'error',
        });
        throw error;
      } finally {
        end();
      }
    };
  const getJob = observed(timed(client.getJob.bind(client)));
  const getJobByUrl = observed(timed(client.getJobByUrl.bind(client)));
  const listJobs = observed(client.listJobs.bind(client));
  const readJob = observed(timed(client.readJob.bind(client)));
  // The target is a blank object: the client itself may be frozen, and a proxy over a frozen
  // object may not answer with anything but its own properties.
  return new Proxy({} as AdminClient, {
    get(_target, prop) {
      if (prop === 'getJob') return getJob;
      if (prop === 'getJobByUrl') return getJobByUrl;
      if (prop === 'listJobs') return listJobs;
      if (prop === 'readJob') return readJob;
      const value = Reflect.get(client, prop, client);
      return typeof value === 'function' ? value.bind(client) : value;
    },
    has: (_target, prop) => Reflect.has(client, prop),
  });
}

/** Creates the daemon core. Call {@link Daemon.start}. */
export function createDaemon(options: DaemonOptions): Daemon {
  const { config, store, logger, metrics } = options;
  const now = options.now ?? Date.now;
  const reporter = createWarningReporter({ logger, metrics });
  const makeClient =
    options.createClient ??
    ((d: Deployment) =>
      createAdminClient({
        url: d.url,
        auth: d.auth,
        allowInsecureHttp: d.allowInsecureHttp,
        tokenHeader: d.tokenHeader,
        onWarnings: reporter.forDeployment(d.name),
        userAgent: 'jobwatch-daemon',
      }));
  // One model for every deployment: its kinds carry the deployment's name.
  const model = new DurationModel();
  const watchers = new Map<string, Watcher>();
  for (const d of config.deployments) {
    const health = new DeploymentHealth({ deployment: d.name, logger, metrics, now });
    watchers.set(
      d.name,
      createWatcher(instrumentClient(makeClient(d), metrics, d.name, health), {
        deployment: d.name,
        model,
        ...(d.budget ? { budget: d.budget } : {}),
        ...(d.pacing ? { pacing: d.pacing } : {}),
        onUnknownStatus: reporter.onUnknownStatus,
      }),
    );
  }
  /** Live subscriptions by job. */
  const subs = new Map<string, Subscription>();
  /** Latest status of every job being watched, for the metrics gauge. */
  const latest = new Map<string, { deployment: string; status: string | null }>();
  /** Per-job write chains, so one job's snapshots are stored in order. */
  const chains = new Map<string, Promise<void>>();
  const discoveries: Subscription[] = [];
  const discoveryRetries = new Set<NodeJS.Timeout>();
  let webhooks: WebhookDispatcher | undefined;
  let started = false;
  let stopping = false;

  metrics.setWatchedSource(() => latest.values());

  const enqueue = (ref: JobRef, task: () => Promise<void>) => {
    const key = keyOf(ref);
    // No wait of its own: the store commits what arrives in one turn together, at its end.
    const next = (chains.get(key) ?? Promise.resolve())
      .then(task)
      .catch((error) =>
        logger.error(
          { deployment: ref.deployment, jobid: ref.jobid, err: error },
          'could not store a snapshot',
        ),
      );
    chains.set(key, next);
    void next.then(() => {
      if (chains.get(key) === next) chains.delete(key);
    });
  };

  const end = (ref: JobRef) => {
    const key = keyOf(ref);
    subs.get(key)?.unsubscribe();
    subs.delete(key);
    latest.delete(key);
  };

  async function onSnapshot(snapshot: Snapshot): Promise<void> {
    const ref = { deployment: snapshot.deployment, jobid: snapshot.jobid };
    const key = keyOf(ref);
    let from: string | null | undefined;
    const event = await store.recordSnapshot(snapshot, (previous, stored) => {
      from = previous?.status;
      return deliveriesFor(config.webhooks, stored, previous, now());
    });
    const shown = event?.snapshot ?? snapshot;
    if (subs.has(key) || latest.has(key))
      latest.set(key, { deployment: ref.deployment, status: shown.status });
    if (event) {
      if (from !== shown.status) {
        metrics.transitions.inc({
          deployment: ref.deployment,
          status: statusLabel(shown.status),
        });
        logger.info(
          {
            deployment: ref.deployment,
            jobid: ref.jobid,
            from: from ?? null,
            status: shown.status,
            stale: shown.stale,
            eventId: event.id,
          },
          'transition',
        );
      }
      webhooks?.kick();
    }
    // The store marked the watch finished in the same step as the terminal snapshot.
    if (snapshot.terminal) end(ref);
  }

  const fixedToken = new Set(
    config.deployments.filter((d) => d.auth.type === 'token').map((d) => d.name),
  );

  /**
   * A watch that cannot go on: stored as failed with its error, sent on the event stream as
   * `watch_failed` and to webhooks as `job.watch_failed`, counted and logged.
   */
  async function onError(ref: JobRef, error: unknown): Promise<void> {
    const code = codeOf(error);
    let message = error instanceof Error ? error.message : String(error);
    if (code === 'AUTH' && fixedToken.has(ref.deployment))
      message = `${message}. Deployment "${ref.deployment}" has a fixed token, which the daemon cannot refresh: give it a username with passwordEnv or passwordFile and the daemon generates and refreshes tokens itself`;
    end(ref);
    const event = await store.failWatch(ref, { code, message }, (failure, eventId) =>
      deliveriesForFailure(config.webhooks, failure, eventId),
    );
    if (!event) return; // stopped meanwhile: nobody waits for it any more
    metrics.watchesFailed.inc({ deployment: ref.deployment, code });
    logger.warn(
      { deployment: ref.deployment, jobid: ref.jobid, code, message, eventId: event.id },
      'watch failed',
    );
    webhooks?.kick();
  }

  function subscribe(ref: JobRef): void {
    const watcher = watchers.get(ref.deployment);
    const key = keyOf(ref);
    if (!watcher || subs.has(key)) return;
    latest.set(key, { deployment: ref.deployment, status: null });
    const sub = watcher.watch(ref.jobid).subscribe({
      next: (snapshot) => enqueue(ref, () => onSnapshot(snapshot)),
      error: (error) => enqueue(ref, () => onError(ref, error)),
    });
    if (!sub.closed) subs.set(key, sub);
  }

  function discover(d: Deployment): void {
    const watcher = watchers.get(d.name);
    if (!watcher) return;
    const sub = watcher
      .watchAll({ discover: true, ...(d.listIntervalMs ? { listInterval: d.listIntervalMs } : {}) })
      .subscribe({
        next: (snapshot) => {
          const ref = { deployment: snapshot.deployment, jobid: snapshot.jobid };
          const key = keyOf(ref);
          if (subs.has(key)) return; // watched on its own; that subscription stores it
          enqueue(ref, async () => {
            if (!latest.has(key)) {
              // Only a job never seen is new. One that finished is done (a restart lists it
              // again), one someone stopped watching or that failed stays as it is.
              const state = (await store.get(ref))?.state;
              if (state !== undefined && state !== 'watching') return;
              // A job that ended before the retention horizon was either reported and since
              // forgotten, or is older than anything this daemon keeps: either way, not news.
              if (state === undefined && endedBefore(snapshot, now() - config.jobRetentionMs))
                return;
              if (!snapshot.terminal) {
                await store.watch(ref, now());
                latest.set(key, { deployment: ref.deployment, status: snapshot.status });
              }
            }
            await onSnapshot(snapshot);
            if (snapshot.terminal) latest.delete(key);
            // From now on the job is watched on its own, as after a restart: its watch can
            // fail alone (told as watch_failed) and outlives a discovery that stops.
            else if (!stopping && (await store.get(ref))?.state === 'watching') subscribe(ref);
          });
        },
        error: (error) => {
          logger.error({ deployment: d.name, err: error }, 'discovery stopped; listing again soon');
          if (stopping) return;
          const timer = setTimeout(() => {
            discoveryRetries.delete(timer);
            if (!stopping) discover(d);
          }, DISCOVERY_RETRY_MS);
          timer.unref();
          discoveryRetries.add(timer);
        },
      });
    discoveries.push(sub);
  }

  return {
    deployments: config.deployments.map((d) => d.name),
    async start() {
      await loadModel(store, model, logger);
      model.subscribe((change) => {
        void store
          .saveModelKind(change.key, JSON.stringify(modelKindJSON(change)), change.updatedAt)
          .catch((error) =>
            logger.error({ kind: change.key, err: error }, 'could not store the duration model'),
          );
      });
      const resumed = await store.list({ state: 'watching' });
      for (const record of resumed) {
        if (watchers.has(record.deployment)) subscribe(record);
        else
          logger.warn(
            { deployment: record.deployment, jobid: record.jobid },
            'deployment no longer configured; not resumed',
          );
      }
      for (const d of config.deployments) if (d.discover) discover(d);
      if (config.webhooks.length) {
        webhooks = startWebhookDispatcher({
          store,
          webhooks: config.webhooks,
          retry: config.webhookRetry,
          logger,
          metrics,
          now,
          ...(options.fetch ? { fetch: options.fetch } : {}),
        });
      }
      started = true;
      logger.info(
        { resumed: resumed.length, deployments: config.deployments.map((d) => d.name) },
        'daemon ready',
      );
    },
    ready: () => started && !stopping,
    models: () => model.toJSON({ summary: true }),
    async watch(ref) {
      if (stopping) return { refused: 'SHUTTING_DOWN' };
      if (!watchers.has(ref.deployment)) return { refused: 'UNKNOWN_DEPLOYMENT' };
      const existing = await store.get(ref);
      if (existing?.state === 'watching' || existing?.state === 'finished') {
        if (existing.state === 'watching') subscribe(ref);
        return { created: false, record: existing };
      }
      await store.watch(ref, now());
      subscribe(ref);
      const record = (await store.get(ref)) as JobRecord;
      logger.info({ deployment: ref.deployment, jobid: ref.jobid }, 'watch started');
      return { created: true, record };
    },
    async unwatch(ref) {
      end(ref);
      const known = await store.setState(ref, 'stopped');
      if (known) logger.info({ deployment: ref.deployment, jobid: ref.jobid }, 'watch stopped');
      return known;
    },
    async close() {
      if (stopping) return;
      stopping = true;
      for (const sub of discoveries) sub.unsubscribe();
      for (const timer of discoveryRetries) clearTimeout(timer);
      for (const sub of subs.values()) sub.unsubscribe();
      subs.clear();
      for (const watcher of watchers.values()) watcher.close();
      await Promise.all(chains.values());
      await webhooks?.close();
      await store.close();
    },
  };
}
