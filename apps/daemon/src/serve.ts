/**
 * `jobwatch serve`: wires configuration, store, daemon core, event hub and HTTP server, and
 * takes them down in order.
 */
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { clusterScope, type Scope } from './cluster/scope.js';
import type { ServeConfig } from './config.js';
import { createDaemon, type Daemon, type DaemonOptions } from './daemon.js';
import { configError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createEventHub } from './server/events.js';
import { createApiServer } from './server/http.js';
import { createTicketIssuer } from './server/security.js';
import { openSqliteStore } from './store/sqlite.js';
import type { Store } from './store/store.js';

/**
 * Opens the configured store: SQLite in `dataDir`, or Redis. One that cannot be opened is a
 * configuration error (exit 2), named without any password.
 */
async function openStore(config: ServeConfig, logger: Logger, metrics: Metrics): Promise<Store> {
  if (config.store.kind === 'redis') {
    try {
      // Loaded only when asked for: a daemon on SQLite never loads the Redis client.
      const { openRedisStore } = await import('./store/redis.js');
      return await openRedisStore({
        url: config.store.url,
        prefix: config.store.prefix,
        logger,
        metrics,
      });
    } catch (error) {
      throw configError(`store: ${(error as Error).message}`);
    }
  }
  try {
    return openSqliteStore({ dataDir: config.dataDir });
  } catch (error) {
    throw configError(
      `dataDir: cannot open the database in ${config.dataDir} (${(error as { code?: string }).code ?? (error as Error).message})`,
      error,
    );
  }
}

/** Options of {@link startServer}. */
export interface StartServerOptions {
  readonly config: ServeConfig;
  /** @default a pino logger on standard output at `config.logLevel` */
  readonly logger?: Logger;
  /** @default the configured store: SQLite in `config.dataDir`, or Redis */
  readonly store?: Store;
  /** Passed to the daemon core (client factory, fetch for webhooks, clock). */
  readonly daemon?: Pick<DaemonOptions, 'createClient' | 'fetch' | 'now'>;
}

/** A running `jobwatch serve`. */
export interface RunningServer {
  /** `http://host:port` it listens on. */
  readonly url: string;
  readonly daemon: Daemon;
  /**
   * Shuts down: stops accepting, ends every event stream with `event: end`, stops watching,
   * flushes the store. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Which deployments this daemon polls: with a store several daemons share (Redis), the ones
 * whose lease it holds, the leases kept beside the store's keys on its connection; else all.
 */
function scopeOf(
  store: Store,
  config: ServeConfig,
  logger: Logger,
  metrics: Metrics,
): Scope | undefined {
  const shared = store as Partial<{ redis: Redis; keys: { prefix: string } }>;
  if (!shared.redis || !shared.keys) return undefined;
  return clusterScope({
    deployments: config.deployments.map((d) => d.name),
    redis: shared.redis,
    prefix: shared.keys.prefix,
    leasePeriodMs: config.leasePeriodMs,
    logger,
    metrics,
  });
}

/**
 * Starts the daemon and its HTTP server: `jobwatch serve`, in-process.
 *
 * @example
 * ```ts
 * const config = resolveServeConfig({ config: 'jobwatch.yaml' }, process.env);
 * const server = await startServer({ config });
 * console.log(`listening on ${server.url}`);
 * process.once('SIGTERM', () => void server.close());
 * ```
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const store = options.store ?? (await openStore(config, logger, metrics));
  const pruneOnce = () => {
    const at = Date.now();
    return store
      .prune({
        olderThan: at - config.eventRetentionMs,
        maxEvents: config.maxEvents,
        jobsEndedBefore: at - config.jobRetentionMs,
      })
      .then((pruned) => {
        if (pruned.jobs > 0 || pruned.events > 0) logger.debug(pruned, 'pruned');
      })
      .catch((error) => logger.error({ err: error }, 'pruning failed'));
  };
  await pruneOnce();
  const pruner = setInterval(pruneOnce, 60_000);
  pruner.unref();
  const hub = createEventHub({
    store,
    heartbeatMs: config.heartbeatMs,
    maxClients: config.maxStreamClients,
    onClients: (n) => metrics.streamClients.set(n),
    onDrop: () => metrics.streamDropped.inc(),
    onRefuse: () => metrics.streamRefused.inc(),
  });
  const daemon = createDaemon({
    config,
    store,
    logger,
    metrics,
    scope: scopeOf(store, config, logger, metrics),
    ...options.daemon,
  });
  const server = createApiServer({
    daemon,
    store,
    hub,
    tickets: createTicketIssuer(),
    metrics,
    logger,
    apiKeys: config.apiKeys,
    allowedHosts: config.allowedHosts,
    listenHost: config.host,
    corsOrigins: config.corsOrigins,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await daemon.close();
    throw configError(
      `listen: cannot listen on ${config.host}:${config.port} (${(error as { code?: string }).code ?? 'error'})`,
      error,
    );
  }
  await daemon.start();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info(
    {
      url,
      store: config.store.kind,
      apiKeys: config.apiKeys.length,
      webhooks: config.webhooks.length,
    },
    'listening',
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    daemon,
    close() {
      closing ??= (async () => {
        logger.info('shutting down');
        clearInterval(pruner);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        hub.close('shutdown');
        server.closeIdleConnections();
        await daemon.close();
        // Every response has ended by now; keep-alive sockets must not hold the exit.
        server.closeAllConnections();
        await closed;
        logger.info('stopped');
        logger.flush();
      })();
      return closing;
    },
  };
}
