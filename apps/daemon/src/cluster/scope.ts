/**
 * Which deployments this daemon polls: all of them when it runs alone ({@link soleScope}), or
 * those whose lease it holds when several daemons share a Redis ({@link clusterScope}). The
 * daemon core asks its scope and is told when a deployment comes or goes; nothing else in it
 * knows about leases.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Fence, JobRef } from '../store/store.js';
import { createCoordinator, type LossReason } from './coordinator.js';
import { Leases } from './lease.js';
import { type Notices, openNotices } from './notices.js';

/** What a scope tells the daemon core. */
export interface ScopeHandlers {
  /** Start polling a deployment: resume its watched jobs, start its discovery. */
  activate(deployment: string): Promise<void>;
  /**
   * Stop polling a deployment at once. For `released` the lease is given up only once the
   * returned promise settles, so it should wait for writes in flight.
   */
  deactivate(deployment: string, reason: LossReason): Promise<void>;
  /** A job was added (`watch`) or stopped (`unwatch`) through another daemon. */
  changed(kind: 'watch' | 'unwatch', ref: JobRef): void;
  /** Compare the jobs polled with the store's watch set (in case a notice was lost). */
  rescan(deployment: string): Promise<void>;
}

/** Which deployments this daemon polls, and the fence its writes carry. */
export interface Scope {
  /** Whether deployments are shared with other daemons. */
  readonly shared: boolean;
  /** Activates what this daemon polls; resolves once the first deployments are active. */
  start(handlers: ScopeHandlers): Promise<void>;
  /** The fence for writes about a deployment's jobs; `undefined` when it needs none or is not held. */
  fence(deployment: string): Fence | undefined;
  /** The store refused a write for `deployment` as `FENCED`: stop polling it at once. */
  fenced(deployment: string): void;
  /** Tells the other daemons that a job was added or stopped here. */
  announce(kind: 'watch' | 'unwatch', ref: JobRef): void;
  /** Stops; gives every lease up (graceful shutdown). */
  close(): Promise<void>;
}

/** The unit of work of a deployment, as leases and fences name it. */
export const workOf = (deployment: string) => `deployment:${deployment}`;
const deploymentOf = (work: string) => work.slice('deployment:'.length);

/** A daemon alone: it polls every deployment, and its writes need no fence. */
export function soleScope(deployments: readonly string[]): Scope {
  return {
    shared: false,
    async start(handlers) {
      for (const d of deployments) await handlers.activate(d);
    },
    fence: () => undefined,
    fenced: () => undefined,
    announce: () => undefined,
    async close() {},
  };
}

/** Options of {@link clusterScope}. */
export interface ClusterScopeOptions {
  readonly deployments: readonly string[];
  /**
   * The connection for lease commands: the store's own (commands fail at once while Redis is
   * away, rather than queue), which this leaves open.
   */
  readonly redis: Redis;
  /**
   * Opens a connection of its own for the notices' subscription (closed by
   * {@link Scope.close}). @default a duplicate of {@link redis} that queues while offline and
   * subscribes again after a reconnect
   */
  readonly subscribe?: () => Redis;
  /** The Redis key prefix (the store's, hash tag included). */
  readonly prefix: string;
  readonly leasePeriodMs: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Who this daemon is. @default `<host>:<pid>:<random>` */
  readonly owner?: string;
  /** Between two renewals, in ms. @default a third of the lease period, at most 1.5 s */
  readonly tickMs?: number;
}

/** A unique name of this daemon among those sharing a Redis: `<host>:<pid>:<random>`. */
export function daemonName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * Daemons sharing one Redis: this one polls the deployments whose lease it holds, fairly
 * shared (see `createCoordinator`), takes over those of a daemon that died, and hears of jobs
 * added or stopped through the others' APIs.
 */
export function clusterScope(options: ClusterScopeOptions): Scope {
  const { logger, metrics } = options;
  const owner = options.owner ?? daemonName();
  const { redis } = options;
  const subscriber =
    options.subscribe?.() ??
    redis.duplicate({
      connectionName: `jobwatch:${owner}:notices`,
      enableOfflineQueue: true,
      autoResubscribe: true,
      enableAutoPipelining: false,
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
    });
  subscriber.on('error', () => undefined); // reconnects on its own; the store reports Redis down
  const leases = new Leases({
    redis,
    owner,
    leasePeriodMs: options.leasePeriodMs,
    prefix: options.prefix,
  });
  let notices: Notices | undefined;
  let rescans: NodeJS.Timeout | undefined;
  for (const d of options.deployments) metrics.leasesHeld.set({ deployment: d }, 0);

  let handlers: ScopeHandlers | undefined;
  const coordinator = createCoordinator({
    leases,
    works: options.deployments.map(workOf),
    ...(options.tickMs ? { tickMs: options.tickMs } : {}),
    onGained: (grant) => handlers?.activate(deploymentOf(grant.work)),
    onLost: (work, reason) => handlers?.deactivate(deploymentOf(work), reason),
    onResumed: (work) =>
      void handlers
        ?.rescan(deploymentOf(work))
        .catch((error) =>
          logger.warn({ deployment: deploymentOf(work), err: error }, 'rescan failed'),
        ),
    announceRelease: (work) => void notices?.publish({ kind: 'released', work }),
    events: {
      gained(grant) {
        const deployment = deploymentOf(grant.work);
        metrics.leasesHeld.set({ deployment }, 1);
        if (grant.takeover) metrics.leaseTakeovers.inc({ deployment });
        logger.info(
          { deployment, fencingToken: grant.token, takeover: grant.takeover, owner },
          grant.takeover ? 'lease taken over' : 'lease acquired',
        );
      },
      lost(work, reason) {
        const deployment = deploymentOf(work);
        metrics.leasesHeld.set({ deployment }, 0);
        const line = { deployment, reason, owner };
        if (reason === 'released') logger.info(line, 'lease released');
        else logger.warn(line, 'lease lost; stopped polling the deployment');
      },
      renewFailed(work, reason, error) {
        metrics.leaseRenewFailures.inc({ deployment: deploymentOf(work), reason });
        if (reason === 'error')
          logger.warn(
            { deployment: deploymentOf(work), err: error },
            'could not renew the lease (Redis unreachable); polling goes on',
          );
      },
      tickFailed(error) {
        logger.warn({ err: error }, 'could not reach Redis to share work');
      },
      live(count) {
        metrics.clusterDaemons.set(count);
      },
    },
  });

  return {
    shared: true,
    async start(next) {
      handlers = next;
      notices = await openNotices({
        publisher: redis,
        subscriber,
        prefix: options.prefix,
        owner,
        onNotice(notice) {
          if (notice.kind === 'released') coordinator.poke();
          else next.changed(notice.kind, { deployment: notice.deployment, jobid: notice.jobid });
        },
      });
      await coordinator.start();
      // Notices can be lost (a reconnect): now and then, compare with the store's watch set.
      rescans = setInterval(() => {
        for (const work of coordinator.held())
          void next
            .rescan(deploymentOf(work))
            .catch((error) =>
              logger.warn({ deployment: deploymentOf(work), err: error }, 'rescan failed'),
            );
      }, options.leasePeriodMs * 4);
      rescans.unref();
    },
    fence: (deployment) => coordinator.fence(workOf(deployment)),
    fenced(deployment) {
      metrics.fencedWrites.inc({ deployment });
      coordinator.lost(workOf(deployment), 'fenced');
    },
    announce(kind, ref) {
      void notices?.publish({ kind, deployment: ref.deployment, jobid: ref.jobid });
    },
    async close() {
      clearInterval(rescans);
      await coordinator.close({ release: true });
      await notices?.close();
      subscriber.disconnect();
    },
  };
}
