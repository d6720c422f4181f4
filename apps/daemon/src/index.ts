/**
 * `@jobwatch/daemon`: the `jobwatch` command line and the headless service, usable in-process.
 *
 * @module @jobwatch/daemon
 * @packageDocumentation
 */

/** The API's error codes and job view, from the protocol in `@jobwatch/schema`. */
export { ApiErrorCode, type ApiErrorCodeValue, type JobView } from '@jobwatch/schema';
export {
  ExitCode,
  type ExitCodeValue,
  exitCodeForError,
  exitCodeForStatus,
  worstExitCode,
} from './cli/exit-codes.js';
export type { CliIo } from './cli/io.js';
export { runCli } from './cli/program.js';
export type { LossReason } from './cluster/coordinator.js';
export {
  DEFAULT_PREFIX,
  type Grant,
  Leases,
  type LeasesOptions,
  type RenewOutcome,
  type WorkKeys,
  workKeys,
} from './cluster/lease.js';
export {
  type ClusterScopeOptions,
  clusterScope,
  type Scope,
  type ScopeHandlers,
  soleScope,
  workOf,
} from './cluster/scope.js';
export {
  type ConfigFile,
  ConfigFileSchema,
  type Connection,
  DEPLOYMENT_KINDS,
  type Deployment,
  type DeploymentKind,
  type Env,
  loadConfigFile,
  resolveConnection,
  resolveServeConfig,
  type ServeConfig,
  type StoreConfig,
  validateConfigFile,
  type Webhook,
} from './config.js';
export {
  createDaemon,
  type Daemon,
  type DaemonOptions,
  type Placement,
  type WatchRefusal,
} from './daemon.js';
export { type DurationBounds, formatDuration, MAX_DURATION_MS, parseDuration } from './duration.js';
export {
  DaemonError,
  DaemonErrorCode,
  type DaemonErrorCodeValue,
  FencedError,
  isDaemonError,
  isFencedError,
  StoreError,
  StoreErrorCode,
  type StoreErrorCodeValue,
} from './errors.js';
export { DeploymentHealth, type DeploymentHealthOptions } from './health.js';
export { createLogger } from './log.js';
export { createMetrics, type Metrics } from './metrics.js';
export { type RunningServer, type StartServerOptions, startServer } from './serve.js';
export {
  DEFAULT_REDIS_PREFIX,
  openRedisStore,
  type RedisKeys,
  type RedisStore,
  type RedisStoreMetrics,
  type RedisStoreOptions,
  redisKeyPrefix,
  redisKeys,
} from './store/redis.js';
export { openSqliteStore, type SqliteStoreOptions } from './store/sqlite.js';
export type {
  Delivery,
  EventFilter,
  Fence,
  JobRecord,
  JobRef,
  NewDelivery,
  ReplayResult,
  SnapshotEvent,
  Store,
  StoredEvent,
  StoreHealth,
  WatchFailedEvent,
  WatchFailure,
  WatchState,
  WatchTarget,
} from './store/store.js';
export {
  deliveriesFor,
  deliveriesForFailure,
  messageIdFor,
  signWebhook,
  type WebhookPayload,
} from './webhooks.js';
