/**
 * The headless service's core: it turns watch requests into `@jobwatch/rx` subscriptions and
 * their snapshots into stored events, webhook deliveries, metrics and log lines. It holds no
 * pacing or retry logic: that is `@jobwatch/rx`'s.
 */
import {
  type AdminClient,
  type AdminClientOptions,
  AuthError,
  type ClientHooks,
  type ClientOperation,
  createAdminClient,
} from '@jobwatch/client';
import { createWatcher, DurationModel, type DurationModelJSON, type Watcher } from '@jobwatch/rx';
import {
  type JobSource,
  jobRefUrl,
  parseJobRef,
  type Snapshot,
  type JobRef as SourceRef,
} from '@jobwatch/schema';
import type { Subscription } from 'rxjs';
import type { LossReason } from './cluster/coordinator.js';
import { type Scope, type ScopeHandlers, soleScope } from './cluster/scope.js';
import type { Deployment, ServeConfig } from './config.js';
import { DeploymentHealth } from './health.js';
import type { Logger } from './log.js';
import { type Metrics, statusLabel } from './metrics.js';
import { loadModel, modelKindJSON } from './models.js';
import type {
  JobRecord,
  JobRef,
  Store,
  StoredEvent,
  WatchFailedEvent,
  WatchTarget,
} from './store/store.js';
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
  /**
   * Makes the admin client of a deployment. `options` are what the daemon would give
   * `createAdminClient`; its poll metrics and deployment health hang on `options.hooks`, so
   * pass them on. @default `(_, options) => createAdminClient(options)`
   */
  readonly createClient?: (deployment: Deployment, options: AdminClientOptions) => AdminClient;
  /** fetch used for webhooks. @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * Which deployments this daemon polls: with several daemons on one Redis, those whose lease
   * it holds (`clusterScope`). @default every configured deployment (`soleScope`)
   */
  readonly scope?: Scope;
}

/**
 * Why a watch request was refused: no such deployment, shutting down, no deployment's
 * credentials serve the job's host, several do (name one), or the deployment already watches
 * another job under the same id.
 */
export type WatchRefusal =
  | 'UNKNOWN_DEPLOYMENT'
  | 'SHUTTING_DOWN'
  | 'NO_DEPLOYMENT_FOR_HOST'
  | 'AMBIGUOUS_DEPLOYMENT'
  | 'JOB_ID_TAKEN';

/** Where a job of any source is watched: its deployment and key, or why it cannot be. */
export type Placement = { readonly target: WatchTarget } | { readonly refused: WatchRefusal };

/** The running daemon core. */
export interface Daemon {
  /** Names of the configured deployments, in configuration order. */
  readonly deployments: readonly string[];
  /** Resumes every unfinished watch and starts discovery. Resolves when the daemon is ready. */
  start(): Promise<void>;
  /** Whether {@link start} has finished and the daemon is not shutting down. */
  ready(): boolean;
  /**
   * Starts watching a job; persisted before it resolves. `created` is false when it was
   * already watched. A target with a `url` (from {@link Daemon.place}) is a job of another
   * source than its deployment's own kind.
   */
  watch(
    ref: WatchTarget,
  ): Promise<{ created: boolean; record: JobRecord } | { refused: WatchRefusal }>;
  /**
   * Where a job of any source is watched, with no request: on `deployment` when named, else on
   * the deployment whose credentials serve the job's host (its URL's origin, or one of its
   * `origins`); one of the same ArcGIS context first when several do. A job of a deployment's
   * own kind at its own URL gets its bare id, as `POST {"jobid"}` would.
   */
  place(ref: SourceRef, deployment?: string): Placement;
  /** A job's source and URL, for jobs other than a deployment's ArcGIS Enterprise admin jobs. */
  describe(target: WatchTarget): { source: JobSource; url: string } | undefined;
  /** Stops watching a job. Resolves `false` when it was not known. */
  unwatch(ref: JobRef): Promise<boolean>;
  /** What it has learned of how long each kind of job takes (`GET /api/models`). */
  models(): DurationModelJSON;
  /** Stops every watch, waits for pending writes and webhook attempts, closes the store. */
  close(): Promise<void>;
}

const keyOf = (ref: JobRef) => `${ref.deployment}\u0000${ref.jobid}`;

/** The origins whose jobs a deployment's credentials serve: its URL's, and its `origins`. */
const originsOf = (d: Deployment): readonly string[] => [new URL(d.url).origin, ...d.origins];

/** The ArcGIS context of a URL: its first path segment (`arcgis`, `server`, `portal`). */
const contextOf = (url: string): string => new URL(url).pathname.split('/')[1] ?? '';

/** The reference of a job the daemon watches: its URL, or its deployment's kind at the deployment's URL. */
function targetRef(d: Deployment, target: WatchTarget): SourceRef {
  if (target.url) return parseJobRef(target.url);
  return { source: d.kind, adminUrl: d.url, jobid: target.jobid };
}

/** How long after a discovery that stopped (its listing refused, say) the daemon lists again. */
const DISCOVERY_RETRY_MS = 30_000;

/** Whether a terminal snapshot's job ended (by the server's clock) before `cutoff` epoch ms. */
function endedBefore(snapshot: Snapshot, cutoff: number): boolean {
  const end = snapshot.job?.endtime || snapshot.job?.updatedtime || 0;
  return snapshot.terminal && end > 0 && end < cutoff;
}

/** A write the store refused because the fence it carried is no longer current (`FENCED`). */
const isFencedError = (error: unknown): error is Error =>
  error instanceof Error && (error as { code?: unknown }).code === 'FENCED';

const codeOf = (error: unknown): string => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'INTERNAL';
};

/** The calls that poll one job: counted and timed as polls. */
const POLLS: ReadonlySet<ClientOperation> = new Set([
  'getJob',
  'getJobByUrl',
  'readJob',
  'readJobRef',
]);
/** The calls whose outcome tells a deployment's health: the polls and the job listing. */
const HEALTH: ReadonlySet<ClientOperation> = new Set([...POLLS, 'listJobs', 'listServerJobs']);

/**
 * The client hooks of one deployment: every poll counted by outcome (`ok` or the error's code
 * in lower case) and timed, and `health` told the outcome of each poll and listing.
 */
function clientHooks(metrics: Metrics, deployment: string, health: DeploymentHealth): ClientHooks {
  return {
    onResponse(info) {
      if (POLLS.has(info.operation)) {
        metrics.polls.inc({ deployment, outcome: 'ok' });
        metrics.pollSeconds.observe({ deployment }, info.durationMs / 1000);
      }
      if (HEALTH.has(info.operation)) health.ok();
    },
    onError(info) {
      const { error } = info;
      if (POLLS.has(info.operation)) {
        metrics.polls.inc({ deployment, outcome: error.code.toLowerCase() });
        metrics.pollSeconds.observe({ deployment }, info.durationMs / 1000);
      }
      if (HEALTH.has(info.operation)) health.failed(error.code, error.message);
    },
  };
}

/**
 * Each deployment's means of polling: its client (observed by {@link clientHooks}, made once,
 * so its token outlives a lease) and a function making a fresh watcher on it — a fresh watcher,
 * with a fresh request budget, each time the daemon starts polling the deployment.
 */
function createPollers(
  options: DaemonOptions,
  model: DurationModel,
): Map<string, { readonly deployment: Deployment; readonly watcher: () => Watcher }> {
  const { config, logger, metrics } = options;
  const now = options.now ?? Date.now;
  const reporter = createWarningReporter({ logger, metrics });
  const makeClient =
    options.createClient ?? ((_d: Deployment, o: AdminClientOptions) => createAdminClient(o));
  const pollers = new Map<string, { deployment: Deployment; watcher: () => Watcher }>();
  for (const d of config.deployments) {
    const health = new DeploymentHealth({ deployment: d.name, logger, metrics, now });
    const client = makeClient(d, {
      url: d.url,
      ...(d.origins.length ? { origins: d.origins } : {}),
      auth: d.auth,
      allowInsecureHttp: d.allowInsecureHttp,
      tokenHeader: d.tokenHeader,
      onWarnings: reporter.forDeployment(d.name),
      userAgent: 'jobwatch-daemon',
      hooks: clientHooks(metrics, d.name, health),
    });
    pollers.set(d.name, {
      deployment: d,
      watcher: () =>
        createWatcher(client, {
          deployment: d.name,
          model,
          ...(d.budget ? { budget: d.budget } : {}),
          ...(d.pacing ? { pacing: d.pacing } : {}),
          onUnknownStatus: reporter.onUnknownStatus,
        }),
    });
  }
  return pollers;
}

/** What the daemon's parts share: its options, watchers, subscriptions and write chains. */
interface Core {
  readonly options: DaemonOptions;
  readonly now: () => number;
  readonly model: DurationModel;
  /** Every configured deployment's client and watcher factory. */
  readonly pollers: ReturnType<typeof createPollers>;
  /** The watchers of the deployments polled now (all of them, unless work is shared). */
  readonly watchers: Map<string, Watcher>;
  readonly scope: Scope;
  /** The configured deployments by name. */
  readonly deployments: ReadonlyMap<string, Deployment>;
  /** Live subscriptions by job. */
  readonly subs: Map<string, Subscription>;
  /** Latest status of every job being watched, for the metrics gauge. */
  readonly latest: Map<string, { deployment: string; status: string | null }>;
  /** Per-job write chains, so one job's snapshots are stored in order. */
  readonly chains: Map<string, Promise<void>>;
  /** Discovery of each deployment polled with `discover`. */
  readonly discoveries: Map<string, Subscription>;
  readonly discoveryRetries: Map<string, NodeJS.Timeout>;
  /** Deployments with a fixed token, which the daemon cannot refresh. */
  readonly fixedToken: ReadonlySet<string>;
  webhooks: WebhookDispatcher | undefined;
  started: boolean;
  stopping: boolean;
}

/** Runs `task` after every earlier task of the same job, logging what fails. */
function enqueue(core: Core, ref: JobRef, task: () => Promise<void>): void {
  const { chains } = core;
  const key = keyOf(ref);
  // No wait of its own: the store commits what arrives in one turn together, at its end.
  const next = (chains.get(key) ?? Promise.resolve())
    .then(task)
    .catch((error) =>
      core.options.logger.error(
        { deployment: ref.deployment, jobid: ref.jobid, err: error },
        'could not store a snapshot',
      ),
    );
  chains.set(key, next);
  void next.then(() => {
    if (chains.get(key) === next) chains.delete(key);
  });
}

/** Stops one job's subscription and forgets its status. */
function end(core: Core, ref: JobRef): void {
  const key = keyOf(ref);
  core.subs.get(key)?.unsubscribe();
  core.subs.delete(key);
  core.latest.delete(key);
}

/**
 * The store refused a write: this daemon's lease on the deployment is no longer current
 * (another daemon took it over while this one paused or lost Redis). It stops polling the
 * deployment at once; nothing is lost, since the new holder polls the same jobs.
 */
function fenced(core: Core, ref: JobRef, error: Error): void {
  core.options.logger.warn(
    { deployment: ref.deployment, jobid: ref.jobid, reason: error.message },
    'write refused: the lease on the deployment has passed to another daemon',
  );
  core.scope.fenced(ref.deployment);
}

/** Stores a snapshot with its webhook deliveries; counts and logs a visible transition. */
async function onSnapshot(core: Core, snapshot: Snapshot): Promise<void> {
  const { store, config, metrics, logger } = core.options;
  const ref = { deployment: snapshot.deployment, jobid: snapshot.jobid };
  const key = keyOf(ref);
  let from: string | null | undefined;
  const fence = core.scope.fence(ref.deployment);
  // Polled after the deployment went to another daemon: its holder records the job.
  if (core.scope.shared && !fence) return;
  let event: StoredEvent | undefined;
  try {
    event = await store.recordSnapshot(
      snapshot,
      (previous, stored) => {
        from = previous?.status;
        return deliveriesFor(config.webhooks, stored, previous, core.now());
      },
      fence,
    );
  } catch (error) {
    if (isFencedError(error)) return fenced(core, ref, error);
    throw error;
  }
  const shown = event?.snapshot ?? snapshot;
  if (core.subs.has(key) || core.latest.has(key))
    core.latest.set(key, { deployment: ref.deployment, status: shown.status });
  if (event) {
    if (from !== shown.status) {
      metrics.transitions.inc({ deployment: ref.deployment, status: statusLabel(shown.status) });
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
    core.webhooks?.kick();
  }
  // The store marked the watch finished in the same step as the terminal snapshot.
  if (snapshot.terminal) end(core, ref);
}

/**
 * A watch that cannot go on: stored as failed with its error, sent on the event stream as
 * `watch_failed` and to webhooks as `job.watch_failed`, counted and logged.
 */
async function onError(core: Core, ref: JobRef, error: unknown): Promise<void> {
  const { store, config, metrics, logger } = core.options;
  const code = codeOf(error);
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof AuthError && core.fixedToken.has(ref.deployment))
    message = `${message}. Deployment "${ref.deployment}" has a fixed token, which the daemon cannot refresh: give it a username with passwordEnv or passwordFile and the daemon generates and refreshes tokens itself`;
  end(core, ref);
  const fence = core.scope.fence(ref.deployment);
  if (core.scope.shared && !fence) return; // another daemon polls it now
  let event: WatchFailedEvent | undefined;
  try {
    event = await store.failWatch(
      ref,
      { code, message },
      (failure, eventId) => deliveriesForFailure(config.webhooks, failure, eventId),
      fence,
    );
  } catch (error) {
    if (isFencedError(error)) return fenced(core, ref, error);
    throw error;
  }
  if (!event) return; // stopped meanwhile: nobody waits for it any more
  metrics.watchesFailed.inc({ deployment: ref.deployment, code });
  logger.warn(
    { deployment: ref.deployment, jobid: ref.jobid, code, message, eventId: event.id },
    'watch failed',
  );
  core.webhooks?.kick();
}

/**
 * Watches one job on its own, storing each snapshot in order: an admin job of an enterprise
 * deployment by id, any other (a server deployment's jobs, jobs with a URL) by reference.
 */
function subscribe(core: Core, ref: WatchTarget): void {
  const watcher = core.watchers.get(ref.deployment);
  const deployment = core.deployments.get(ref.deployment);
  const key = keyOf(ref);
  if (!watcher || !deployment || core.subs.has(key)) return;
  core.latest.set(key, { deployment: ref.deployment, status: null });
  const stream =
    !ref.url && deployment.kind === 'enterprise'
      ? watcher.watch(ref.jobid)
      : watcher.watchRef(targetRef(deployment, ref));
  const sub = stream.subscribe({
    next: (snapshot) => enqueue(core, ref, () => onSnapshot(core, snapshot)),
    error: (error) => enqueue(core, ref, () => onError(core, ref, error)),
  });
  if (!sub.closed) core.subs.set(key, sub);
}

/** A job that discovery listed: stored if it is news, then watched on its own while it runs. */
async function onDiscovered(core: Core, snapshot: Snapshot): Promise<void> {
  const { store, config } = core.options;
  const ref = { deployment: snapshot.deployment, jobid: snapshot.jobid };
  const key = keyOf(ref);
  if (!core.latest.has(key)) {
    // Only a job never seen is new. One that finished is done (a restart lists it
    // again), one someone stopped watching or that failed stays as it is.
    const state = (await store.get(ref))?.state;
    if (state !== undefined && state !== 'watching') return;
    // A job that ended before the retention horizon was either reported and since
    // forgotten, or is older than anything this daemon keeps: either way, not news.
    if (state === undefined && endedBefore(snapshot, core.now() - config.jobRetentionMs)) return;
    if (!snapshot.terminal) {
      await store.watch(ref, core.now());
      core.latest.set(key, { deployment: ref.deployment, status: snapshot.status });
    }
  }
  await onSnapshot(core, snapshot);
  if (snapshot.terminal) core.latest.delete(key);
  // From now on the job is watched on its own, as after a restart: its watch can
  // fail alone (told as watch_failed) and outlives a discovery that stops.
  else if (!core.stopping && (await store.get(ref))?.state === 'watching') subscribe(core, ref);
}

/** Lists a deployment's jobs for new ones; lists again a while after the listing stops. */
function discover(core: Core, d: Deployment): void {
  const watcher = core.watchers.get(d.name);
  if (!watcher) return;
  const sub = watcher
    .watchAll({
      discover: true,
      source: d.kind,
      ...(d.listIntervalMs ? { listInterval: d.listIntervalMs } : {}),
    })
    .subscribe({
      next: (snapshot) => {
        const ref = { deployment: snapshot.deployment, jobid: snapshot.jobid };
        if (core.subs.has(keyOf(ref))) return; // watched on its own; that subscription stores it
        enqueue(core, ref, () => onDiscovered(core, snapshot));
      },
      error: (error) => {
        core.options.logger.error(
          { deployment: d.name, err: error },
          'discovery stopped; listing again soon',
        );
        core.discoveries.delete(d.name);
        if (core.stopping || core.watchers.get(d.name) !== watcher) return;
        const timer = setTimeout(() => {
          core.discoveryRetries.delete(d.name);
          if (!core.stopping && core.watchers.get(d.name) === watcher) discover(core, d);
        }, DISCOVERY_RETRY_MS);
        timer.unref();
        core.discoveryRetries.set(d.name, timer);
      },
    });
  if (!sub.closed) core.discoveries.set(d.name, sub);
}

/** The deployment a job key (`keyOf`) belongs to. */
const deploymentOfKey = (key: string) => key.slice(0, key.indexOf('\u0000'));

/**
 * Starts polling a deployment (every one, alone; a leased one, when work is shared): a fresh
 * watcher, every job the store has as watched resumed, discovery on when configured.
 */
async function activate(core: Core, name: string): Promise<number> {
  const poller = core.pollers.get(name);
  if (!poller || core.stopping || core.watchers.has(name)) return 0;
  const watcher = poller.watcher();
  core.watchers.set(name, watcher);
  const records = await core.options.store.list({ state: 'watching', deployment: name });
  if (core.watchers.get(name) !== watcher) return 0; // let go meanwhile
  for (const record of records) resume(core, record);
  if (poller.deployment.discover) discover(core, poller.deployment);
  if (core.scope.shared)
    core.options.logger.info({ deployment: name, resumed: records.length }, 'polling deployment');
  return records.length;
}

/**
 * Stops polling a deployment at once: its jobs' loops, its discovery, its watcher. When it
 * is given away (`released`), waits for the writes in flight, which its lease still covers.
 */
async function deactivate(core: Core, name: string, reason: LossReason): Promise<void> {
  const watcher = core.watchers.get(name);
  if (!watcher) return;
  core.watchers.delete(name);
  core.discoveries.get(name)?.unsubscribe();
  core.discoveries.delete(name);
  clearTimeout(core.discoveryRetries.get(name));
  core.discoveryRetries.delete(name);
  const pending: Promise<void>[] = [];
  for (const key of [...core.subs.keys(), ...core.latest.keys()])
    if (deploymentOfKey(key) === name) {
      core.subs.get(key)?.unsubscribe();
      core.subs.delete(key);
      core.latest.delete(key);
    }
  for (const [key, chain] of core.chains) if (deploymentOfKey(key) === name) pending.push(chain);
  watcher.close();
  if (reason === 'released') await Promise.all(pending);
}

/** What the scope tells the core: deployments to poll or let go, jobs changed elsewhere. */
function scopeHandlers(core: Core): ScopeHandlers {
  const { store } = core.options;
  return {
    activate: async (name) => void (await activate(core, name)),
    deactivate: (name, reason) => deactivate(core, name, reason),
    changed(kind, ref) {
      if (!core.watchers.has(ref.deployment)) return;
      if (kind === 'unwatch') return end(core, ref);
      void store
        .get(ref)
        .then((record) => {
          if (record?.state === 'watching') resume(core, record);
        })
        .catch((error) =>
          core.options.logger.warn({ ...ref, err: error }, 'could not read a job added elsewhere'),
        );
    },
    async rescan(name) {
      if (!core.watchers.has(name)) return;
      const records = await store.list({ state: 'watching', deployment: name });
      const watched = new Set(records.map(keyOf));
      for (const record of records) resume(core, record);
      for (const key of [...core.subs.keys()])
        if (deploymentOfKey(key) === name && !watched.has(key) && !core.chains.has(key)) {
          core.subs.get(key)?.unsubscribe();
          core.subs.delete(key);
          core.latest.delete(key);
        }
    },
  };
}

/** Resumes a stored watch; one whose stored URL no longer reads as a job is failed, not dropped. */
function resume(core: Core, record: JobRecord): void {
  if (record.url) {
    try {
      parseJobRef(record.url);
    } catch (error) {
      enqueue(core, record, () => onError(core, record, error));
      return;
    }
  }
  subscribe(core, record);
}

/** {@link Daemon.place}: the deployment whose credentials serve a job's host. */
function place(core: Core, ref: SourceRef, name?: string): Placement {
  const url = jobRefUrl(ref);
  const origin = new URL(url).origin;
  const named = name === undefined ? undefined : core.deployments.get(name);
  if (name !== undefined && !named) return { refused: 'UNKNOWN_DEPLOYMENT' };
  const pool = named ? [named] : [...core.deployments.values()];
  // A deployment's own kind of job at its own URL: its bare id, as `{"jobid"}` names it.
  const own = pool.find(
    (d) =>
      (ref.source === 'enterprise' || ref.source === 'server') &&
      ref.source === d.kind &&
      ref.adminUrl === d.url,
  );
  if (own) return { target: { deployment: own.name, jobid: ref.jobid } };
  const serving = pool.filter((d) => originsOf(d).includes(origin));
  if (serving.length === 0) return { refused: 'NO_DEPLOYMENT_FOR_HOST' };
  const context = contextOf(url);
  const near = serving.filter((d) => contextOf(d.url) === context);
  const chosen = serving.length === 1 ? serving : near;
  if (chosen.length !== 1) return { refused: 'AMBIGUOUS_DEPLOYMENT' };
  return { target: { deployment: (chosen[0] as Deployment).name, jobid: ref.jobid, url } };
}

/** {@link Daemon.start}: the model loaded, webhooks on, the scope's deployments polled. */
async function start(core: Core): Promise<void> {
  const { options, model } = core;
  const { store, logger, config, metrics } = options;
  await loadModel(store, model, logger);
  model.subscribe((change) => {
    void store
      .saveModelKind(change.key, JSON.stringify(modelKindJSON(change)), change.updatedAt)
      .catch((error) =>
        logger.error({ kind: change.key, err: error }, 'could not store the duration model'),
      );
  });
  if (!core.scope.shared)
    for (const record of await store.list({ state: 'watching' }))
      if (!core.pollers.has(record.deployment))
        logger.warn(
          { deployment: record.deployment, jobid: record.jobid },
          'deployment no longer configured; not resumed',
        );
  if (config.webhooks.length) {
    core.webhooks = startWebhookDispatcher({
      store,
      webhooks: config.webhooks,
      retry: config.webhookRetry,
      logger,
      metrics,
      now: core.now,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }
  await core.scope.start(scopeHandlers(core));
  core.started = true;
  logger.info(
    {
      resumed: core.latest.size,
      deployments: config.deployments.map((d) => d.name),
      polling: [...core.watchers.keys()],
    },
    'daemon ready',
  );
}

/** Creates the daemon core. Call {@link Daemon.start}. */
export function createDaemon(options: DaemonOptions): Daemon {
  const { config, store, logger, metrics } = options;
  // One model for every deployment: its kinds carry the deployment's name.
  const model = new DurationModel();
  const core: Core = {
    options,
    now: options.now ?? Date.now,
    model,
    pollers: createPollers(options, model),
    watchers: new Map(),
    scope: options.scope ?? soleScope(config.deployments.map((d) => d.name)),
    deployments: new Map(config.deployments.map((d) => [d.name, d])),
    subs: new Map(),
    latest: new Map(),
    chains: new Map(),
    discoveries: new Map(),
    discoveryRetries: new Map(),
    fixedToken: new Set(
      config.deployments.filter((d) => d.auth.type === 'token').map((d) => d.name),
    ),
    webhooks: undefined,
    started: false,
    stopping: false,
  };
  metrics.setWatchedSource(() => core.latest.values());

  return {
    deployments: config.deployments.map((d) => d.name),
    start: () => start(core),
    ready: () => core.started && !core.stopping,
    models: () => model.toJSON({ summary: true }),
    place: (ref, name) => place(core, ref, name),
    describe(target) {
      const d = core.deployments.get(target.deployment);
      if (!d || (!target.url && d.kind === 'enterprise')) return undefined;
      try {
        const ref = targetRef(d, target);
        return { source: ref.source, url: jobRefUrl(ref) };
      } catch {
        return undefined;
      }
    },
    async watch(ref) {
      if (core.stopping) return { refused: 'SHUTTING_DOWN' };
      if (!core.pollers.has(ref.deployment)) return { refused: 'UNKNOWN_DEPLOYMENT' };
      const existing = await store.get(ref);
      // One id, one job: another source's job under a watched id is refused, not merged.
      if (existing && (existing.url ?? undefined) !== (ref.url ?? undefined))
        return { refused: 'JOB_ID_TAKEN' };
      if (existing?.state === 'watching' || existing?.state === 'finished') {
        if (existing.state === 'watching') subscribe(core, ref);
        return { created: false, record: existing };
      }
      await store.watch(ref, core.now());
      // Polled here when this daemon polls its deployment; else the one that does is told.
      if (core.watchers.has(ref.deployment)) subscribe(core, ref);
      else core.scope.announce('watch', ref);
      const record = (await store.get(ref)) as JobRecord;
      logger.info(
        { deployment: ref.deployment, jobid: ref.jobid, ...(ref.url ? { url: ref.url } : {}) },
        'watch started',
      );
      return { created: true, record };
    },
    async unwatch(ref) {
      end(core, ref);
      const known = await store.setState(ref, 'stopped');
      if (known && !core.watchers.has(ref.deployment)) core.scope.announce('unwatch', ref);
      if (known) logger.info({ deployment: ref.deployment, jobid: ref.jobid }, 'watch stopped');
      return known;
    },
    async close() {
      if (core.stopping) return;
      core.stopping = true;
      // Shared work is given up first, once the writes its leases cover are done.
      await core.scope.close();
      for (const sub of core.discoveries.values()) sub.unsubscribe();
      for (const timer of core.discoveryRetries.values()) clearTimeout(timer);
      for (const sub of core.subs.values()) sub.unsubscribe();
      core.subs.clear();
      for (const watcher of core.watchers.values()) watcher.close();
      await Promise.all(core.chains.values());
      await core.webhooks?.close();
      await store.close();
    },
  };
}
