/**
 * Configuration of `jobwatch serve` (and of `wait`/`watch` when given `--config`): a JSON or
 * YAML file validated with TypeBox, environment variables, and flags, merged with the
 * precedence flags > environment > file > defaults. One room a concern, under `config/`:
 * the schema and resolved shapes, reading the file, single-value checks, secrets, and the
 * two resolutions (`serve`, and the connection of `wait`/`watch`).
 */
export {
  checkAdminUrl,
  HEARTBEAT_BOUNDS,
  hostName,
  LEASE_PERIOD_BOUNDS,
  parseListen,
  tokenHeaderOf,
} from './config/checks.js';
export { type Connection, type ConnectionFlags, resolveConnection } from './config/connection.js';
export { loadConfigFile, validateConfigFile } from './config/file.js';
export {
  type ConfigFile,
  ConfigFileSchema,
  DEPLOYMENT_KINDS,
  type Deployment,
  DeploymentConfigSchema,
  type DeploymentKind,
  type Env,
  LOG_LEVELS,
  type LogLevel,
  type ServeConfig,
  type StoreConfig,
  TOKEN_HEADERS,
  type Webhook,
  WebhookConfigSchema,
} from './config/schema.js';
export { type CredentialInput, toAuth, webhookKey } from './config/secrets.js';
export { resolveServeConfig, type ServeFlags } from './config/serve.js';
export { DaemonError } from './errors.js';
