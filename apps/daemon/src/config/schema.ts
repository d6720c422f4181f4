/**
 * The configuration file's schema (TypeBox, validated with ajv) and the resolved shapes that
 * `jobwatch serve`, `wait` and `watch` run with.
 */
import type { AuthProvider, TokenHeader } from '@jobwatch/client';
import Type, { type Static } from 'typebox';

const Duration = Type.String({ minLength: 1, description: 'a duration such as 90s, 30m, 1h30m' });

/** The values of `tokenHeader`, `--token-header` and `JOBWATCH_TOKEN_HEADER`. */
export const TOKEN_HEADERS = ['auto', 'x-esri-authorization', 'authorization'] as const;
const NonEmpty = Type.String({ minLength: 1 });

/** The values of a deployment's `kind`: where its admin jobs live. */
export const DEPLOYMENT_KINDS = ['enterprise', 'server'] as const;
/** One of {@link DEPLOYMENT_KINDS}. */
export type DeploymentKind = (typeof DEPLOYMENT_KINDS)[number];

/** One ArcGIS Enterprise deployment in the configuration file. */
export const DeploymentConfigSchema = Type.Object(
  {
    /** Unique name, used in snapshots, filters and URLs. */
    name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
    /** Admin root URL: `https://host/<context>/admin`. */
    url: NonEmpty,
    /**
     * What `url` is: `enterprise` (ArcGIS Enterprise on Kubernetes, jobs at `<url>/jobs`) or
     * `server` (ArcGIS Server, jobs at `<url>/system/jobs`). A bare job id, and discovery,
     * mean jobs of this kind. @default "enterprise"
     */
    kind: Type.Optional(Type.Enum(DEPLOYMENT_KINDS)),
    /**
     * Other origins (`https://host[:port]`) whose jobs this deployment's credentials serve,
     * beyond `url`'s own: a federated portal on another host, say. Job URLs posted to
     * `POST /api/jobs` are matched to a deployment by origin. @default none
     */
    origins: Type.Optional(Type.Array(NonEmpty, { maxItems: 32 })),
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
    /**
     * Where the daemon keeps its state: `sqlite` in `dataDir` (the default), or `redis`,
     * shared by several daemons. `JOBWATCH_REDIS_URL` overrides it.
     */
    store: Type.Optional(
      Type.Object(
        {
          kind: Type.Enum(['sqlite', 'redis']),
          /** `redis://[user:password@]host:port[/db]` or `rediss://…` (kind `redis`). */
          url: Type.Optional(NonEmpty),
          /** Prefix of every Redis key, made a Cluster hash tag. @default "jobwatch:" */
          prefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:{}-]{1,64}$' })),
        },
        { additionalProperties: false },
      ),
    ),
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
    /** Several daemons sharing work through a Redis store. */
    cluster: Type.Optional(
      Type.Object(
        {
          /**
           * How long a daemon's hold on a deployment (its lease) lasts without renewal; it is
           * renewed every third of it (at least every 1.5 s), and a daemon that dies is replaced
           * within this long plus 1.5 s. 1s to 10m. @default "15s"
           */
          leasePeriod: Type.Optional(Duration),
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
  /** Where its admin jobs live: `<url>/jobs` (enterprise) or `<url>/system/jobs` (server). */
  readonly kind: DeploymentKind;
  /** Other origins its credentials serve (normalised `scheme://host[:port]`), beyond `url`'s. */
  readonly origins: readonly string[];
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

/** The store of `jobwatch serve`, resolved: its Redis URL may hold a password (never shown). */
export type StoreConfig =
  | { readonly kind: 'sqlite' }
  | { readonly kind: 'redis'; readonly url: string; readonly prefix: string };

/** Everything `jobwatch serve` needs, resolved and checked. */
export interface ServeConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Where state is kept: SQLite in {@link dataDir}, or a Redis shared by several daemons. */
  readonly store: StoreConfig;
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
  /** With a Redis store: how long a lease lasts without renewal (`cluster.leasePeriod`). */
  readonly leasePeriodMs: number;
}

/** What the environment may hold. */
export type Env = Readonly<Record<string, string | undefined>>;
