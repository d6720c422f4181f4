/**
 * The configuration of `jobwatch serve`: flags, then the environment, then the file, then
 * defaults.
 */
import { isLoopbackHost } from '@jobwatch/client';
import { configError } from '../errors.js';
import { DEFAULT_REDIS_PREFIX } from '../store/redis/keys.js';
import {
  checkAdminUrl,
  checkRedisUrl,
  checkWebhookUrl,
  durationKey,
  HEARTBEAT_BOUNDS,
  hostName,
  LEASE_PERIOD_BOUNDS,
  parseListen,
  tokenHeaderOf,
} from './checks.js';
import { resolveDeployment } from './deployment.js';
import { loadConfigFile } from './file.js';
import {
  type ConfigFile,
  DEPLOYMENT_KINDS,
  type Deployment,
  type DeploymentKind,
  type Env,
  LOG_LEVELS,
  type LogLevel,
  type ServeConfig,
  type StoreConfig,
  type Webhook,
} from './schema.js';
import { checkApiKeys, readSecretEnv, toAuth, webhookKey } from './secrets.js';

/** Flags of `jobwatch serve` that override the file and the environment. */
export interface ServeFlags {
  readonly config?: string | undefined;
  readonly listen?: string | undefined;
  readonly dataDir?: string | undefined;
  readonly logLevel?: string | undefined;
}

/** `JOBWATCH_KIND`: `enterprise` (the default) or `server`. */
function deploymentKindOf(value: string | undefined): DeploymentKind {
  if (value === undefined || value === '') return 'enterprise';
  if ((DEPLOYMENT_KINDS as readonly string[]).includes(value)) return value as DeploymentKind;
  throw configError(`JOBWATCH_KIND: expected one of ${DEPLOYMENT_KINDS.join(', ')}`);
}

/**
 * Resolves the configuration of `jobwatch serve`: flags, then environment, then the file,
 * then defaults. With no deployment in the file, one deployment named `default` comes from
 * `JOBWATCH_URL` with `JOBWATCH_TOKEN` or `JOBWATCH_USERNAME` + `JOBWATCH_PASSWORD`.
 *
 * @throws {@link DaemonError} (`CONFIG`) naming the bad key or variable.
 */
export function resolveServeConfig(flags: ServeFlags, env: Env): ServeConfig {
  const file: ConfigFile = flags.config ? loadConfigFile(flags.config) : {};
  const deployments: Deployment[] = (file.deployments ?? []).map((d, i) =>
    resolveDeployment(d, i, env),
  );
  const names = new Set<string>();
  for (const [i, d] of deployments.entries()) {
    if (names.has(d.name)) throw configError(`deployments[${i}].name: "${d.name}" is used twice`);
    names.add(d.name);
  }
  if (deployments.length === 0) {
    if (!env.JOBWATCH_URL)
      throw configError(
        'no deployment: give --config with deployments, or set JOBWATCH_URL and credentials',
      );
    deployments.push({
      name: 'default',
      url: checkAdminUrl(env.JOBWATCH_URL, 'JOBWATCH_URL'),
      kind: deploymentKindOf(env.JOBWATCH_KIND),
      origins: [],
      auth: toAuth(
        {
          token: env.JOBWATCH_TOKEN,
          username: env.JOBWATCH_USERNAME,
          password: env.JOBWATCH_PASSWORD,
          tokenUrl: env.JOBWATCH_TOKEN_URL,
        },
        'environment',
      ),
      discover: env.JOBWATCH_DISCOVER === '1' || env.JOBWATCH_DISCOVER === 'true',
      allowInsecureHttp: false,
      tokenHeader: tokenHeaderOf(env.JOBWATCH_TOKEN_HEADER, 'JOBWATCH_TOKEN_HEADER') ?? 'auto',
    });
  }
  const listenText = flags.listen ?? env.JOBWATCH_LISTEN ?? file.listen ?? '127.0.0.1:8787';
  const { host, port } = parseListen(
    listenText,
    flags.listen ? '--listen' : env.JOBWATCH_LISTEN ? 'JOBWATCH_LISTEN' : 'listen',
  );
  const envKeys = env.JOBWATCH_API_KEYS?.split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const apiKeys = envKeys?.length ? envKeys : (file.apiKeys ?? []);
  checkApiKeys(apiKeys, envKeys?.length ? 'JOBWATCH_API_KEYS' : 'apiKeys');
  const envHosts = env.JOBWATCH_ALLOWED_HOSTS?.split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  for (const [i, h] of (envHosts ?? []).entries())
    if (!/^(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\])$/.test(h))
      throw configError(
        `JOBWATCH_ALLOWED_HOSTS[${i}]: expected a host name such as jobs.example.com, got ${JSON.stringify(h.slice(0, 64))}`,
      );
  const allowedHosts = (envHosts?.length ? envHosts : (file.allowedHosts ?? [])).map(hostName);
  if (apiKeys.length === 0 && !isLoopbackHost(host)) {
    throw configError(
      `listen: refusing to serve ${host} without an API key; set apiKeys (or JOBWATCH_API_KEYS) or listen on 127.0.0.1`,
    );
  }
  const logLevel = (flags.logLevel ??
    env.JOBWATCH_LOG_LEVEL ??
    file.logLevel ??
    'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    throw configError(
      `log level: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`,
    );
  const webhooks = (file.webhooks ?? []).map((w, i): Webhook => {
    const at = `webhooks[${i}]`;
    const secret =
      w.secret ?? (w.secretEnv ? readSecretEnv(env, w.secretEnv, `${at}.secretEnv`) : undefined);
    if (!secret) throw configError(`${at}: expected secret or secretEnv`);
    const url = checkWebhookUrl(w.url, `${at}.url`);
    for (const d of w.deployments ?? [])
      if (!names.has(d)) throw configError(`${at}.deployments: no deployment named "${d}"`);
    const key = webhookKey(
      secret,
      w.secret !== undefined ? `${at}.secret` : `${at}.secretEnv (${w.secretEnv})`,
    );
    return {
      url: url.href,
      key,
      events: new Set(w.events ?? ['terminal']),
      ...(w.deployments ? { deployments: new Set(w.deployments) } : {}),
    };
  });
  const webhookRetry = {
    baseMs: durationKey(file.webhookRetry?.base ?? '5s', 'webhookRetry.base'),
    maxMs: durationKey(file.webhookRetry?.max ?? '1h', 'webhookRetry.max'),
    giveUpAfterMs: durationKey(file.webhookRetry?.giveUpAfter ?? '24h', 'webhookRetry.giveUpAfter'),
  };
  if (webhookRetry.baseMs > webhookRetry.maxMs)
    throw configError(
      `webhookRetry.base (${file.webhookRetry?.base ?? '5s'}) is above webhookRetry.max (${file.webhookRetry?.max ?? '1h'})`,
    );
  return {
    host,
    port,
    dataDir: flags.dataDir ?? env.JOBWATCH_DATA_DIR ?? file.dataDir ?? './jobwatch-data',
    store: resolveStore(file.store, env),
    apiKeys,
    allowedHosts,
    corsOrigins: file.cors?.origins ?? [],
    deployments,
    webhooks,
    logLevel,
    eventRetentionMs: durationKey(file.events?.retention ?? '24h', 'events.retention'),
    maxEvents: file.events?.maxEvents ?? 100_000,
    heartbeatMs: durationKey(file.events?.heartbeat ?? '15s', 'events.heartbeat', HEARTBEAT_BOUNDS),
    maxStreamClients: file.events?.maxClients ?? 10_000,
    jobRetentionMs: durationKey(file.jobs?.retention ?? '7d', 'jobs.retention'),
    webhookRetry,
    leasePeriodMs: durationKey(
      file.cluster?.leasePeriod ?? '15s',
      'cluster.leasePeriod',
      LEASE_PERIOD_BOUNDS,
    ),
  };
}

/** The store: `JOBWATCH_REDIS_URL`, then the file's `store`, then SQLite. */
function resolveStore(file: ConfigFile['store'], env: Env): StoreConfig {
  const prefix = file?.prefix ?? DEFAULT_REDIS_PREFIX;
  if (env.JOBWATCH_REDIS_URL)
    return {
      kind: 'redis',
      url: checkRedisUrl(env.JOBWATCH_REDIS_URL, 'JOBWATCH_REDIS_URL'),
      prefix,
    };
  if (!file || file.kind === 'sqlite') {
    if (file?.url)
      throw configError('store.url: only a redis store has a URL; set kind: redis, or remove url');
    return { kind: 'sqlite' };
  }
  if (!file.url)
    throw configError('store.url: expected a redis:// or rediss:// URL for kind redis');
  return { kind: 'redis', url: checkRedisUrl(file.url, 'store.url'), prefix };
}
