/**
 * Configuration of `jobwatch serve` (and of `wait`/`watch` when given `--config`): a JSON or
 * YAML file validated with TypeBox, environment variables, and flags, merged with the
 * precedence flags > environment > file > defaults.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { extname } from 'node:path';
import { type AuthProvider, type TokenHeader, withoutCredentials } from '@jobwatch/client';
import { describeSchema, describeValue, validatorFor } from '@jobwatch/schema';
import Type, { type Static } from 'typebox';
import { parse as parseYaml } from 'yaml';
import { type DurationBounds, parseDuration } from './duration.js';
import { configError, DaemonError } from './errors.js';

const Duration = Type.String({ minLength: 1, description: 'a duration such as 90s, 30m, 1h30m' });

/** The values of `tokenHeader`, `--token-header` and `JOBWATCH_TOKEN_HEADER`. */
export const TOKEN_HEADERS = ['auto', 'x-esri-authorization', 'authorization'] as const;
const NonEmpty = Type.String({ minLength: 1 });

/** One ArcGIS Enterprise deployment in the configuration file. */
export const DeploymentConfigSchema = Type.Object(
  {
    /** Unique name, used in snapshots, filters and URLs. */
    name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
    /** Admin root URL: `https://host/<context>/admin`. */
    url: NonEmpty,
    /** A token written in the file (prefer `tokenEnv` or `tokenFile`). */
    token: Type.Optional(NonEmpty),
    /** Name of the environment variable holding a token. */
    tokenEnv: Type.Optional(NonEmpty),
    /** Path of a file holding a token. */
    tokenFile: Type.Optional(NonEmpty),
    username: Type.Optional(NonEmpty),
    /** Name of the environment variable holding the password. */
    passwordEnv: Type.Optional(NonEmpty),
    /** Path of a file holding the password. */
    passwordFile: Type.Optional(NonEmpty),
    /** Token URL when it is not the one derived from `url`. */
    tokenUrl: Type.Optional(NonEmpty),
    /** Watch every new job of this deployment, not only the ones asked for. @default false */
    discover: Type.Optional(Type.Boolean()),
    /** How often the job list is read when `discover` is on. */
    listInterval: Type.Optional(Duration),
    /** Request budget shared by all jobs of this deployment. */
    budget: Type.Optional(
      Type.Object(
        {
          concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          rate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10000 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Polling bounds handed to `@jobwatch/rx` (which paces between them). */
    pacing: Type.Optional(
      Type.Object(
        {
          /** Shortest wait between two polls of one job. @default "1s" */
          minInterval: Type.Optional(Duration),
          /** Longest wait between two polls of one job. @default "60s" */
          maxInterval: Type.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
    /** Allow tokens over plain http to a host that is not loopback. @default false */
    allowInsecureHttp: Type.Optional(Type.Boolean()),
    /**
     * The header that carries the token: `auto` tries `X-Esri-Authorization`, then on a 499
     * `Authorization`, and keeps the one that works. @default "auto"
     */
    tokenHeader: Type.Optional(Type.Enum(TOKEN_HEADERS)),
  },
  { additionalProperties: false },
);

/** One webhook endpoint in the configuration file. */
export const WebhookConfigSchema = Type.Object(
  {
    url: NonEmpty,
    /** Signing secret; `whsec_` + base64 as Standard Webhooks issues them, or any string. */
    secret: Type.Optional(NonEmpty),
    /** Name of the environment variable holding the secret. */
    secretEnv: Type.Optional(NonEmpty),
    /** `terminal` (a job ended) and/or `change` (every status change). @default ["terminal"] */
    events: Type.Optional(Type.Array(Type.Enum(['terminal', 'change']), { minItems: 1 })),
    /** Only jobs of these deployments. @default all */
    deployments: Type.Optional(Type.Array(NonEmpty)),
  },
  { additionalProperties: false },
);

/** The whole configuration file. Every key is optional. */
export const ConfigFileSchema = Type.Object(
  {
    /** `host:port` to listen on. @default "127.0.0.1:8787" */
    listen: Type.Optional(NonEmpty),
    /** Directory of the SQLite database. @default "./jobwatch-data" */
    dataDir: Type.Optional(NonEmpty),
    /** Keys accepted as `Authorization: Bearer <key>` on `/api`. */
    apiKeys: Type.Optional(Type.Array(Type.String({ minLength: 16 }))),
    /**
     * Host names the API answers to (the `Host` header). Without `apiKeys` loopback names and
     * the listen address are always allowed (against DNS rebinding); with keys and this list,
     * only these. @default any, with keys
     */
    allowedHosts: Type.Optional(
      Type.Array(
        Type.String({
          pattern: '^(?:[A-Za-z0-9_-]+(?:\\.[A-Za-z0-9_-]+)*\\.?|\\[[0-9A-Fa-f:.]+\\])$',
        }),
      ),
    ),
    cors: Type.Optional(
      Type.Object({ origins: Type.Array(NonEmpty) }, { additionalProperties: false }),
    ),
    deployments: Type.Optional(Type.Array(DeploymentConfigSchema)),
    webhooks: Type.Optional(Type.Array(WebhookConfigSchema)),
    logLevel: Type.Optional(
      Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    ),
    events: Type.Optional(
      Type.Object(
        {
          /** How long the event log keeps events for `Last-Event-ID` replay. @default "24h" */
          retention: Type.Optional(Duration),
          /** At most this many events are kept. @default 100000 */
          maxEvents: Type.Optional(Type.Integer({ minimum: 1 })),
          /** Interval of the event stream's `ping` events. @default "15s" */
          heartbeat: Type.Optional(Duration),
          /** Most event-stream clients at once; more are refused with 503. @default 10000 */
          maxClients: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    jobs: Type.Optional(
      Type.Object(
        {
          /**
           * How long a job is remembered after its watch ended (finished, stopped, failed);
           * then it leaves `GET /api/jobs` and the event stream's first snapshots. @default "7d"
           */
          retention: Type.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
    webhookRetry: Type.Optional(
      Type.Object(
        {
          /** First backoff. @default "5s" */
          base: Type.Optional(Duration),
          /** Longest single backoff. @default "1h" */
          max: Type.Optional(Duration),
          /** Give up on a delivery this long after its event. @default "24h" */
          giveUpAfter: Type.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
/** The configuration file as written. */
export type ConfigFile = Static<typeof ConfigFileSchema>;
/** The log levels accepted by `--log-level` and `JOBWATCH_LOG_LEVEL`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A deployment with its secrets read and its URL checked. */
export interface Deployment {
  readonly name: string;
  readonly url: string;
  readonly auth: AuthProvider;
  readonly discover: boolean;
  readonly listIntervalMs?: number;
  readonly budget?: { readonly concurrency?: number; readonly rate?: number };
  readonly pacing?: { readonly minInterval?: number; readonly maxInterval?: number };
  readonly allowInsecureHttp: boolean;
  /** The header that carries the token. */
  readonly tokenHeader: TokenHeader;
}

/** A webhook endpoint, resolved. */
export interface Webhook {
  readonly url: string;
  /** The raw key bytes used for signing. */
  readonly key: Buffer;
  readonly events: ReadonlySet<'terminal' | 'change'>;
  readonly deployments?: ReadonlySet<string>;
}

/** Everything `jobwatch serve` needs, resolved and checked. */
export interface ServeConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly apiKeys: readonly string[];
  /**
   * Host names (lower case) the API answers to, beyond those always allowed; empty means any
   * when keys are configured, loopback only without.
   */
  readonly allowedHosts: readonly string[];
  readonly corsOrigins: readonly string[];
  readonly deployments: readonly Deployment[];
  readonly webhooks: readonly Webhook[];
  readonly logLevel: LogLevel;
  readonly eventRetentionMs: number;
  readonly maxEvents: number;
  readonly heartbeatMs: number;
  /** Most event-stream clients at once. */
  readonly maxStreamClients: number;
  /** How long an ended job is remembered. */
  readonly jobRetentionMs: number;
  readonly webhookRetry: {
    readonly baseMs: number;
    readonly maxMs: number;
    readonly giveUpAfterMs: number;
  };
}

/** What the environment may hold. */
export type Env = Readonly<Record<string, string | undefined>>;

function keyPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(key)) out += `[${key}]`;
    else out += out ? `.${key}` : key;
  }
  return out || '(root)';
}

/** Keys whose values are secrets: an error names them and what was expected, never the value. */
const SECRET_POINTER = /^\/(?:apiKeys(?:\/\d+)?|deployments\/\d+\/token|webhooks\/\d+\/secret)$/;

/** Names a value's type without showing it: `a number (not shown)`. */
function hidden(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  const type = Array.isArray(value) ? 'array' : typeof value;
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} (not shown)`;
}

/**
 * Validates a parsed configuration object.
 * @throws {@link DaemonError} (`CONFIG`) naming the first bad key: `deployments[0].url: expected a string, got 42`.
 * The value of a secret (`apiKeys`, `token`, `secret`) is never shown, only its type.
 */
export function validateConfigFile(value: unknown, source = 'config'): ConfigFile {
  const validate = validatorFor(ConfigFileSchema);
  if (validate(value)) return value as ConfigFile;
  const errors = validate.errors ?? [];
  const e =
    errors.find((x) => x.keyword === 'additionalProperties') ??
    errors.find((x) => x.keyword === 'required') ??
    errors[0];
  if (!e) throw configError(`${source}: invalid`);
  let message: string;
  if (e.keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    message = `${keyPath(`${e.instancePath}/${key}`)}: unknown key`;
  } else if (e.keyword === 'required') {
    const key = (e.params as { missingProperty: string }).missingProperty;
    const props = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)
      ?.properties;
    message = `${keyPath(`${e.instancePath}/${key}`)}: expected ${describeSchema(props?.[key])}, got nothing`;
  } else {
    const expected = describeSchema(e.parentSchema);
    const secret = SECRET_POINTER.test(e.instancePath);
    const limit = (e.params as { limit?: unknown }).limit;
    const detail =
      e.keyword === 'minLength'
        ? `expected at least ${String(limit)} characters`
        : e.keyword === 'pattern' && secret
          ? 'expected another form'
          : expected === 'a valid value' ||
              ['minimum', 'maximum', 'exclusiveMinimum', 'minItems', 'pattern'].includes(e.keyword)
            ? (e.message ?? expected)
            : `expected ${expected}`;
    const got = secret
      ? e.keyword === 'minLength'
        ? 'got fewer (not shown)'
        : `got ${hidden(e.data)}`
      : `got ${describeValue(e.data)}`;
    message = `${keyPath(e.instancePath)}: ${detail}, ${got}`;
  }
  return throwConfig(`${source}: ${message}`);
}

function throwConfig(message: string): never {
  throw configError(message);
}

/**
 * Reads and validates a configuration file: `.yaml`/`.yml` as YAML, anything else as JSON.
 * @throws {@link DaemonError} (`CONFIG`) when the file cannot be read or parsed, or a key is bad.
 */
export function loadConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw configError(
      `cannot read config file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let value: unknown;
  const yaml = ['.yaml', '.yml'].includes(extname(path).toLowerCase());
  try {
    value = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    // The parsers quote the text around the fault, which may be a secret: say only where.
    throw configError(
      `config file ${path} is not valid ${yaml ? 'YAML' : 'JSON'}${whereInText(text, error)}`,
    );
  }
  return validateConfigFile(value ?? {}, path);
}

/** ` at line L, column C` of a parse error, from its position; empty when unknown. */
function whereInText(text: string, error: unknown): string {
  const linePos = (error as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
  if (linePos) return ` at line ${linePos.line}, column ${linePos.col}`;
  const position = /\bposition (\d+)/.exec((error as Error).message ?? '')?.[1];
  if (position === undefined) return '';
  const before = text.slice(0, Number(position)).split('\n');
  return ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

/** A URL as the user wrote it, for a message: without credentials, at most 80 characters. */
const shownUrl = (input: string) => JSON.stringify(withoutCredentials(input).slice(0, 80));

/**
 * Checks an admin URL: http(s), no credentials, no query or fragment.
 * @returns the URL without a trailing slash.
 */
export function checkAdminUrl(input: string, name = '--url'): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw configError(
      `${name}: ${shownUrl(input)} is not a URL; expected https://host/<context>/admin`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw configError(`${name}: expected an http or https URL, got ${url.protocol}`);
  }
  if (url.username || url.password)
    throw configError(
      `${name}: credentials do not belong in the URL; use --username/--password-file or --token`,
    );
  if (url.search || url.hash)
    throw configError(`${name}: expected the admin root without query or fragment`);
  return url.href.replace(/\/+$/, '');
}

function checkWebhookUrl(input: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw configError(`${name}: ${shownUrl(input)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw configError(`${name}: expected an http or https URL, got ${url.protocol}`);
  if (url.username || url.password)
    throw configError(`${name}: credentials do not belong in the URL; sign with secret instead`);
  return url;
}

function readSecretFile(path: string, name: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw configError(
      `${name}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const secret = text.replace(/\r?\n$/, '');
  if (!secret) throw configError(`${name}: ${path} is empty`);
  return secret;
}

function readSecretEnv(env: Env, variable: string, name: string): string {
  const value = env[variable];
  if (!value) throw configError(`${name}: environment variable ${variable} is not set`);
  return value;
}

/** Credentials as gathered from one source, before they become an {@link AuthProvider}. */
export interface CredentialInput {
  readonly token?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly tokenUrl?: string | undefined;
}

const HOW =
  'give --token, or --username with --password-file (or JOBWATCH_TOKEN, or JOBWATCH_USERNAME with JOBWATCH_PASSWORD)';

/** Turns credentials into the client's {@link AuthProvider}, refusing incomplete ones. */
export function toAuth(input: CredentialInput, where: string): AuthProvider {
  if (input.token) return { type: 'token', token: input.token };
  if (input.username) {
    if (!input.password)
      throw configError(`${where}: a username was given without a password; ${HOW}`);
    return {
      type: 'credentials',
      username: input.username,
      password: input.password,
      ...(input.tokenUrl ? { tokenUrl: checkAdminUrl(input.tokenUrl, 'token URL') } : {}),
    };
  }
  throw configError(`no credentials: ${HOW}`);
}

function resolveDeployment(
  d: NonNullable<ConfigFile['deployments']>[number],
  i: number,
  env: Env,
): Deployment {
  const at = `deployments[${i}]`;
  const token =
    d.token ??
    (d.tokenEnv ? readSecretEnv(env, d.tokenEnv, `${at}.tokenEnv`) : undefined) ??
    (d.tokenFile ? readSecretFile(d.tokenFile, `${at}.tokenFile`) : undefined);
  const password = d.username
    ? d.passwordEnv
      ? readSecretEnv(env, d.passwordEnv, `${at}.passwordEnv`)
      : d.passwordFile
        ? readSecretFile(d.passwordFile, `${at}.passwordFile`)
        : undefined
    : undefined;
  if (!token && !d.username)
    throw configError(`${at}: expected token, tokenEnv, tokenFile or username`);
  return {
    name: d.name,
    url: checkAdminUrl(d.url, `${at}.url`),
    auth: toAuth({ token, username: d.username, password, tokenUrl: d.tokenUrl }, at),
    discover: d.discover ?? false,
    ...(d.listInterval
      ? { listIntervalMs: durationKey(d.listInterval, `${at}.listInterval`) }
      : {}),
    ...(d.budget ? { budget: d.budget } : {}),
    ...(d.pacing ? { pacing: resolvePacing(d.pacing, at) } : {}),
    allowInsecureHttp: d.allowInsecureHttp ?? false,
    tokenHeader: d.tokenHeader ?? 'auto',
  };
}

/** A token header from a flag or the environment, checked and named when wrong. */
export function tokenHeaderOf(value: string | undefined, name: string): TokenHeader | undefined {
  if (value === undefined || value === '') return undefined;
  if ((TOKEN_HEADERS as readonly string[]).includes(value)) return value as TokenHeader;
  throw configError(
    `${name}: expected ${TOKEN_HEADERS.join(', ')}, got ${JSON.stringify(value.slice(0, 40))}`,
  );
}

/** Pacing bounds, checked in order: the floor may not be above the ceiling (defaults 1s, 60s). */
function resolvePacing(
  pacing: NonNullable<NonNullable<ConfigFile['deployments']>[number]['pacing']>,
  at: string,
): { minInterval?: number; maxInterval?: number } {
  const min = pacing.minInterval
    ? durationKey(pacing.minInterval, `${at}.pacing.minInterval`)
    : undefined;
  const max = pacing.maxInterval
    ? durationKey(pacing.maxInterval, `${at}.pacing.maxInterval`)
    : undefined;
  if ((min ?? 1_000) > (max ?? 60_000))
    throw configError(
      `${at}.pacing: minInterval (${pacing.minInterval ?? '1s'}) is above maxInterval (${pacing.maxInterval ?? '60s'})`,
    );
  return {
    ...(min !== undefined ? { minInterval: min } : {}),
    ...(max !== undefined ? { maxInterval: max } : {}),
  };
}

function durationKey(text: string, key: string, bounds?: DurationBounds): number {
  try {
    return parseDuration(text, key, bounds);
  } catch (error) {
    throw configError((error as DaemonError).message);
  }
}

/** Bounds of `events.heartbeat`: a ping at least every hour keeps proxies from closing a quiet stream, and at most one a second. */
export const HEARTBEAT_BOUNDS = { min: 1_000, max: 3_600_000 } as const;

/** Parses `host:port` (`[::1]:8787` for IPv6, `:8787` for all interfaces). */
export function parseListen(text: string, name = 'listen'): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535)
    throw configError(
      `${name}: expected host:port such as 127.0.0.1:8787, got ${JSON.stringify(text)}`,
    );
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

/** Whether `host` can only be reached from this machine. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

const SECRET_FORMS =
  'expected whsec_ followed by the base64 of 24 to 64 bytes (as Standard Webhooks issues them), or a plain secret of at least 16 characters';

/**
 * Decodes a webhook secret: `whsec_` + the base64 of 24 to 64 bytes per Standard Webhooks,
 * or a plain secret of at least 16 characters (signed with as UTF-8 bytes). Anything else
 * could be forged (`whsec_` alone signs with an empty key) or would sign with junk.
 * @throws {@link DaemonError} (`CONFIG`) naming `name`, never the secret.
 */
export function webhookKey(secret: string, name = 'webhook secret'): Buffer {
  if (secret.startsWith('whsec_')) {
    const text = secret.slice(6);
    const bare = text.replace(/=+$/, '');
    if (!/^[A-Za-z0-9+/]*$/.test(bare) || bare.length % 4 === 1)
      throw configError(`${name}: the part after whsec_ is not base64; ${SECRET_FORMS}`);
    const key = Buffer.from(bare, 'base64');
    if (key.toString('base64').replace(/=+$/, '') !== bare)
      throw configError(`${name}: the part after whsec_ is not base64; ${SECRET_FORMS}`);
    if (key.length < 24 || key.length > 64)
      throw configError(
        `${name}: the part after whsec_ decodes to ${key.length} bytes; ${SECRET_FORMS}`,
      );
    return key;
  }
  if ([...secret].length < 16) throw configError(`${name}: too short; ${SECRET_FORMS}`);
  return Buffer.from(secret, 'utf8');
}

/** Whether an API key can travel in `Authorization: Bearer <key>`: visible ASCII only. */
const API_KEY_CHARS = /^[\x21-\x7e]+$/;

/** Checks API keys: 16+ characters, no whitespace or control characters. Never shows a key. */
function checkApiKeys(keys: readonly string[], source: string): void {
  for (const [i, key] of keys.entries()) {
    if (key.length < 16)
      throw configError(`${source}[${i}]: expected at least 16 characters, got fewer (not shown)`);
    if (!API_KEY_CHARS.test(key))
      throw configError(
        `${source}[${i}]: holds whitespace, a control or a non-ASCII character (not shown); a key is sent as Authorization: Bearer <key> and must be visible ASCII`,
      );
  }
}

/** A `Host` header's host name, lower case, without a port or a trailing dot. */
export function hostName(host: string): string {
  const bracket = /^\[([^\]]*)\]/.exec(host);
  const name = bracket ? `[${bracket[1]}]` : (host.split(':')[0] ?? '');
  return name.toLowerCase().replace(/\.$/, '');
}

/** Flags of `jobwatch serve` that override the file and the environment. */
export interface ServeFlags {
  readonly config?: string | undefined;
  readonly listen?: string | undefined;
  readonly dataDir?: string | undefined;
  readonly logLevel?: string | undefined;
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
  if (apiKeys.length === 0 && !isLoopback(host)) {
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
  };
}

/** Flags shared by `wait` and `watch`. */
export interface ConnectionFlags {
  readonly url?: string | undefined;
  readonly token?: string | undefined;
  readonly username?: string | undefined;
  readonly passwordFile?: string | undefined;
  readonly tokenUrl?: string | undefined;
  /** `auto`, `x-esri-authorization` or `authorization`. */
  readonly tokenHeader?: string | undefined;
  readonly config?: string | undefined;
  readonly deployment?: string | undefined;
}

/** Where `wait` and `watch` connect, resolved. */
export interface Connection {
  readonly deployment: string;
  readonly url: string;
  readonly auth: AuthProvider;
  readonly allowInsecureHttp: boolean;
  readonly tokenHeader: TokenHeader;
}

/**
 * Resolves the connection of `wait`/`watch`: flags, then `JOBWATCH_*` variables, then the
 * config file's deployment (`--deployment`, or its only one). The first layer that names a
 * credential (a token or a username) supplies it; a username's password comes from
 * `--password-file`, else `JOBWATCH_PASSWORD`.
 */
export function resolveConnection(flags: ConnectionFlags, env: Env): Connection {
  let fromFile: Deployment | undefined;
  if (flags.config) {
    const file = loadConfigFile(flags.config);
    const list = file.deployments ?? [];
    const index = flags.deployment
      ? list.findIndex((d) => d.name === flags.deployment)
      : list.length === 1
        ? 0
        : -1;
    if (index < 0 && (flags.deployment || list.length > 1)) {
      throw configError(
        flags.deployment
          ? `--deployment: no deployment named "${flags.deployment}" in ${flags.config}`
          : `--deployment: ${flags.config} has several deployments; name one`,
      );
    }
    const entry = list[index];
    if (entry) fromFile = resolveDeployment(entry, index, env);
  }
  const urlText = flags.url ?? env.JOBWATCH_URL ?? fromFile?.url;
  if (!urlText)
    throw configError('no admin URL: give --url https://host/<context>/admin (or JOBWATCH_URL)');
  const url = checkAdminUrl(
    urlText,
    flags.url ? '--url' : env.JOBWATCH_URL ? 'JOBWATCH_URL' : 'deployment url',
  );
  const password = () =>
    flags.passwordFile
      ? readSecretFile(flags.passwordFile, '--password-file')
      : env.JOBWATCH_PASSWORD;
  const tokenUrl = flags.tokenUrl ?? env.JOBWATCH_TOKEN_URL;
  let auth: AuthProvider;
  if (flags.token || flags.username) {
    auth = toAuth(
      {
        token: flags.token,
        username: flags.username,
        password: flags.username ? password() : undefined,
        tokenUrl,
      },
      'flags',
    );
  } else if (env.JOBWATCH_TOKEN || env.JOBWATCH_USERNAME) {
    auth = toAuth(
      {
        token: env.JOBWATCH_TOKEN,
        username: env.JOBWATCH_USERNAME,
        password: env.JOBWATCH_USERNAME ? password() : undefined,
        tokenUrl,
      },
      'environment',
    );
  } else if (fromFile) {
    auth = fromFile.auth;
  } else {
    auth = toAuth({}, 'flags');
  }
  const tokenHeader =
    tokenHeaderOf(flags.tokenHeader, '--token-header') ??
    tokenHeaderOf(env.JOBWATCH_TOKEN_HEADER, 'JOBWATCH_TOKEN_HEADER') ??
    fromFile?.tokenHeader ??
    'auto';
  return {
    deployment: fromFile?.name ?? flags.deployment ?? 'default',
    url,
    auth,
    allowInsecureHttp: fromFile?.allowInsecureHttp ?? false,
    tokenHeader,
  };
}

export { DaemonError };
