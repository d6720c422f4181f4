/**
 * The public shape of `@jobwatch/client`. This file fixes the contract that `@jobwatch/rx`,
 * the daemon and the widget build against; `client.ts` implements it.
 */
import type {
  GpJobRef,
  Job,
  JobHandle,
  JobId,
  JobRef,
  SchemaWarning,
  ServerJobRef,
  Service,
  ServiceList,
  SiteInfo,
  SourceJob,
} from '@jobwatch/schema';
import type { JobwatchError } from './errors.js';

/** Per-call options: every call takes an AbortSignal and may override the per-request timeout. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  /** Milliseconds for this request (each attempt), overriding the client's `timeout`. */
  readonly timeout?: number;
  /**
   * Retry policy for this call, over the client's: `false` for one attempt (a caller with its
   * own backoff, such as a poll loop, sees trouble at once), or fields to change.
   * The rule on POST operations holds whatever is given here.
   */
  readonly retry?: RetryOptions | false;
}

/**
 * The header that carries the token on GET requests (POSTs carry it as the `token` form
 * field). `auto` starts with `X-Esri-Authorization` and, when a request that carried a token
 * is answered "token required" (499), sends it once more with the other header and keeps the
 * one that worked for the rest of the client's life (one client per deployment).
 */
export type TokenHeader = 'auto' | 'x-esri-authorization' | 'authorization';

/**
 * @deprecated Use {@link TokenHeader} (`tokenHeader`). A token never travels in a URL, so
 * `'query'` is refused.
 */
export type TokenTransport = 'x-esri-authorization' | 'authorization' | 'query';

/** A body read with warnings: what {@link AdminClientOptions.onWarnings} is told. */
export interface WarningsEvent {
  /** Which body: `job`, `jobs`, `jobHandle`, `service`, `services` or `site`. */
  readonly kind: string;
  /** The URL asked, without its query string. */
  readonly url: string;
  /** The job, for a job body. */
  readonly jobid?: JobId;
  /** What was not in its documented shape, each `{pointer, expected, found}`. */
  readonly warnings: readonly SchemaWarning[];
}

/** A job read with what was not in its documented shape (see {@link AdminClient.readJob}). */
export interface JobRead {
  readonly job: Job;
  readonly warnings: readonly SchemaWarning[];
}

/**
 * The client call (or `generateToken`, asked for a token on a call's behalf) that made a
 * request: what {@link ClientHooks} are told instead of the URL's shape.
 */
export type ClientOperation =
  | 'getJob'
  | 'readJob'
  | 'getJobByUrl'
  | 'listJobs'
  | 'listServerJobs'
  | 'getSiteInfo'
  | 'listServices'
  | 'getService'
  | 'startService'
  | 'stopService'
  | 'editService'
  | 'deleteServices'
  | 'createBackup'
  | 'operation'
  | 'readJobRef'
  | 'submitGpJob'
  | 'cancelGpJob'
  | 'startServerJob'
  | 'generateToken';

/** A request as {@link ClientHooks} see it: never a token, a password or a query string. */
export interface RequestInfo {
  /** The call that made it. */
  readonly operation: ClientOperation;
  readonly method: 'GET' | 'POST';
  /** The URL asked, without its query string. */
  readonly url: string;
}

/** A request that ended with a usable answer (its body read and validated). */
export interface ResponseInfo extends RequestInfo {
  /** The HTTP status of the answer. */
  readonly status: number;
  /** Milliseconds from the start of the call to its answer, token, retries and backoff included. */
  readonly durationMs: number;
  /** HTTP attempts made, the first included (more after retries or a token refresh). */
  readonly attempts: number;
}

/** A request that ended in an error: the error the call rejects with. */
export interface RequestErrorInfo extends RequestInfo {
  /** What the call rejects with; its message holds no secret. */
  readonly error: JobwatchError;
  /** The HTTP status of the last answer, `undefined` when none came (network, timeout, abort). */
  readonly status: number | undefined;
  /** Milliseconds from the start of the call to its failure. */
  readonly durationMs: number;
  /** HTTP attempts made; 0 when the call failed before any was sent (a token that could not be had). */
  readonly attempts: number;
}

/**
 * Listeners told of every request the client makes, for metrics, logs and traces. Each call
 * is told once as it starts (`onRequest`) and once as it ends (`onResponse` or `onError`),
 * after retries; a hook that throws is ignored and never costs the call. They receive no
 * token, password or query string.
 *
 * @example
 * ```ts
 * const client = createAdminClient({
 *   url,
 *   hooks: {
 *     onResponse: (r) => histogram.observe({ op: r.operation }, r.durationMs / 1000),
 *     onError: (r) => errors.inc({ op: r.operation, code: r.error.code }),
 *   },
 * });
 * ```
 */
export interface ClientHooks {
  /** A call is about to ask the server (before its token is fetched). */
  readonly onRequest?: (info: RequestInfo) => void;
  /** A call ended with an answer that passed validation. */
  readonly onResponse?: (info: ResponseInfo) => void;
  /** A call ended in an error, after any retries. */
  readonly onError?: (info: RequestErrorInfo) => void;
}

/** How the client gets a token. */
export type AuthProvider =
  | { readonly type: 'token'; readonly token: string }
  | {
      readonly type: 'credentials';
      readonly username: string;
      readonly password: string;
      /** Defaults to the URL derived from the admin URL: `.../<context>/admin` → `.../<context>/sharing/rest/generateToken`. */
      readonly tokenUrl?: string;
      /** Minutes a token is asked to live. @default none sent: the server's own default (60 minutes on ArcGIS Enterprise) */
      readonly expiration?: number;
      /** `referer` value sent with `client=referer`. @default the admin URL's origin */
      readonly referer?: string;
    }
  | {
      readonly type: 'provider';
      /** Called for a token; called again with `{ refresh: true }` after a 498/499. */
      readonly getToken: (context: {
        readonly refresh: boolean;
        readonly signal?: AbortSignal;
      }) => Promise<string> | string;
    }
  | { readonly type: 'none' };

/** Retry policy for transient failures (network, timeout, 5xx, 429, unreadable body) on reads. */
export interface RetryOptions {
  /** Attempts in total, the first included. @default 4 */
  readonly attempts?: number;
  /** First backoff in ms; doubles each time, with full jitter. @default 250 */
  readonly baseDelay?: number;
  /** Cap of one backoff in ms. @default 10_000 */
  readonly maxDelay?: number;
  /** No retry starts after this many ms since the first attempt. @default 30_000 */
  readonly deadline?: number;
  /** Test seam: a number in [0, 1) for the jitter. @default Math.random */
  readonly random?: () => number;
  /** Test seam: waits `ms`, rejecting early when `signal` aborts. @default a `setTimeout` sleep */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Options of {@link createAdminClient}. */
export interface AdminClientOptions {
  /** The admin root: `https://host/<context>/admin`. */
  readonly url: string;
  readonly auth?: AuthProvider;
  /** A fetch implementation. @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
  /** Per-request timeout in ms. @default 30_000 */
  readonly timeout?: number;
  /** `false` turns retries off. */
  readonly retry?: RetryOptions | false;
  /**
   * Which header carries the token on GET requests. Behind web-tier authentication
   * `Authorization` belongs to the web server and ArcGIS reads `X-Esri-Authorization`;
   * elsewhere some deployments read only `Authorization`. A token never travels in a URL.
   * @default 'auto'
   */
  readonly tokenHeader?: TokenHeader;
  /** @deprecated Use `tokenHeader`; `'query'` is refused (a token never travels in a URL). */
  readonly tokenTransport?: TokenTransport;
  /**
   * Told of every body read with warnings (values not in their documented shape, an unknown
   * status): for logs and metrics. Whatever it throws is ignored.
   */
  readonly onWarnings?: (event: WarningsEvent) => void;
  /** Told of every request's start and end (see {@link ClientHooks}). */
  readonly hooks?: ClientHooks;
  /** Allow tokens and passwords over plain `http:` to hosts other than loopback. @default false */
  readonly allowInsecureHttp?: boolean;
  /** Sent as `User-Agent` where the platform allows it. */
  readonly userAgent?: string;
  /** A clock seam for token expiry and the retry deadline (epoch ms). @default Date.now */
  readonly now?: () => number;
  /**
   * Other origins this client may send requests, and its token, to: for jobs of other sources
   * on other hosts (the portal of a federated server, for example). Jobs are read only on the
   * admin URL's origin and these; a job URL elsewhere is refused (`ConfigError`) before any
   * request. @default only the admin URL's origin
   */
  readonly origins?: readonly string[];
}

/** A job of any source read with what was not in its documented shape (see {@link AdminClient.readJobRef}). */
export interface SourceJobRead {
  /**
   * The body as the server sent it, with `jobid` and `status` as its source spells them
   * (`jobId`/`jobStatus` of a GP job; the reference's id for an item job). Read its status
   * with `sourceStatus(ref.source, job)`.
   */
  readonly job: SourceJob;
  readonly warnings: readonly SchemaWarning[];
  /** The job's reference, normalised. */
  readonly ref: JobRef;
}

/**
 * Parameters of a geoprocessing job (or of an ArcGIS Server admin operation): strings as they
 * are, numbers and booleans as text, lists and objects as JSON text (GP multivalues, feature
 * sets). `f` and `token` are set by the client and refused here.
 */
export type GpParams = Readonly<Record<string, unknown>>;

/** What {@link AdminClient.submitGpJob} returns: the job's reference and the server's first answer. */
export interface GpSubmitted {
  readonly ref: GpJobRef;
  /** The answer of `submitJob` (`jobStatus` usually `esriJobSubmitted`), as a source job. */
  readonly job: SourceJob;
  readonly warnings: readonly SchemaWarning[];
}

/** Options of {@link AdminClient.startServerJob}. */
export type StartServerJobOptions = CallOptions;

/**
 * A service named by folder (optional; `null`, `""` and `"/"` mean the root folder), name and
 * type. `"Folder/Name.MapServer"` is accepted too.
 */
export type ServiceRef =
  | string
  | { readonly folder?: string | null; readonly name: string; readonly type: string };

/** Form fields of a generic operation; `f` and `token` are set by the client and refused here. */
export type OperationParams = Readonly<Record<string, string | number | boolean>>;

/** What an operation run with `async: true` returns: the handle and the job id read from it. */
export interface StartedJob {
  readonly jobid: JobId;
  /** Absolute URL of the job resource, when the server gave one. */
  readonly jobsUrl: string | undefined;
  readonly handle: JobHandle;
}

/** Options of a call that may run as a job: `async: true` answers with a {@link StartedJob}. */
export type AsyncCallOptions = CallOptions & { readonly async: true };
/** Options of a call run synchronously: it resolves once the server answers `{"status":"success"}`. */
export type SyncCallOptions = CallOptions & { readonly async?: false };

/**
 * The admin API over HTTP, promise-based. Browser-safe. Made by {@link createAdminClient}.
 *
 * Every method rejects with a `JobwatchError` subclass: `TransportError`, `RateLimitedError`,
 * `AuthError`, `ArcGISError`, `JobNotFoundError`, `InvalidJobIdError`, `ValidationError`,
 * `AbortedError` or `ConfigError`.
 *
 * Retries: reads are retried on transient failures; operations (POST) are never sent twice
 * once the request may have reached the server (a second POST could start a second job),
 * except after the server refused the token (498/499), which means it ran nothing.
 */
export interface AdminClient {
  /** The normalized admin root, without a trailing slash. */
  readonly url: string;
  /** The header that carries the token now (with `tokenHeader: 'auto'`, the one that worked last). */
  readonly tokenHeader: Exclude<TokenHeader, 'auto'>;
  /**
   * `GET <root>/jobs/<jobid>`: the job, validated. The id is checked before any URL is built
   * (`InvalidJobIdError`); a body about another job is a `ValidationError`; a job the server
   * does not know is a `JobNotFoundError`. A `FAILED` job is a value, not an error.
   */
  getJob(jobid: string, options?: CallOptions): Promise<Job>;
  /**
   * {@link AdminClient.getJob}, with the warnings of the read: each value that was not in its
   * documented shape (kept, read as a number, or taken out of its typed place), and an
   * unknown status. A body is refused only when it is not the job asked for or has no status.
   */
  readJob(jobid: string, options?: CallOptions): Promise<JobRead>;
  /**
   * GETs a handle's `jobsUrl`, only when it is `<root>/jobs/<jobid>` on the admin URL's own
   * origin: any other URL is a `ConfigError`, with no request made.
   */
  getJobByUrl(jobsUrl: string, options?: CallOptions): Promise<Job>;
  /** `GET <root>/jobs`: every job id the server keeps, each checked as a safe id. */
  listJobs(options?: CallOptions): Promise<JobId[]>;
  /**
   * `GET <root>/system/jobs`: every ArcGIS Server admin job id the server keeps (`{"jobs":
   * [ids]}`), each checked as a safe id, for a client whose URL is an ArcGIS Server admin root.
   */
  listServerJobs(options?: CallOptions): Promise<JobId[]>;
  /** `GET <root>`: the site's version and resources. */
  getSiteInfo(options?: CallOptions): Promise<SiteInfo>;
  /** `GET <root>/services[/<folder>]`: the services of the root folder, or of `folder`. */
  listServices(options?: CallOptions & { readonly folder?: string }): Promise<ServiceList>;
  /** `GET <root>/services/[<folder>/]<name>.<type>`: the service JSON. */
  getService(service: ServiceRef, options?: CallOptions): Promise<Service>;
  /** `POST .../<service>/start`; with `async: true` the answer is the started job. */
  startService(service: ServiceRef, options: AsyncCallOptions): Promise<StartedJob>;
  /** `POST .../<service>/start`, waiting for the server's `{"status":"success"}`. */
  startService(service: ServiceRef, options?: SyncCallOptions): Promise<void>;
  /** `POST .../<service>/stop`; with `async: true` the answer is the started job. */
  stopService(service: ServiceRef, options: AsyncCallOptions): Promise<StartedJob>;
  /** `POST .../<service>/stop`, waiting for the server's `{"status":"success"}`. */
  stopService(service: ServiceRef, options?: SyncCallOptions): Promise<void>;
  /**
   * `POST .../<service>/edit` with the service JSON (sent as a JSON string in the form). The
   * JSON is validated before sending; with `async: true` the answer is the started job.
   */
  editService(service: ServiceRef, json: Service, options: AsyncCallOptions): Promise<StartedJob>;
  /** `POST .../<service>/edit`, waiting for the server's `{"status":"success"}`. */
  editService(service: ServiceRef, json: Service, options?: SyncCallOptions): Promise<void>;
  /** `POST <root>/services/deleteServices` with `services` as `[{serviceName, folderName, type}]`. */
  deleteServices(services: readonly ServiceRef[], options: AsyncCallOptions): Promise<StartedJob>;
  /** `POST <root>/services/deleteServices`, waiting for the server's `{"status":"success"}`. */
  deleteServices(services: readonly ServiceRef[], options?: SyncCallOptions): Promise<void>;
  /** `POST <root>/system/disasterrecovery/stores/<store>/backups/create`: always a job. */
  createBackup(
    options: CallOptions & { readonly store: string; readonly params?: Record<string, string> },
  ): Promise<StartedJob>;
  /**
   * Any other POST operation under the admin root, e.g. `services/refreshAutodeployedServices`.
   * With `async: true` among the params the answer is read as a job handle; otherwise the raw
   * body is returned once it is known not to be an error body. The path must stay under the
   * admin root (`ConfigError` otherwise); `f` and `token` are set by the client.
   */
  operation(
    path: string,
    params: OperationParams & { readonly async: true },
    options?: CallOptions,
  ): Promise<StartedJob>;
  /** Any other POST operation, without `async: true`: the raw body, once known not to be an error. */
  operation(path: string, params?: OperationParams, options?: CallOptions): Promise<unknown>;
  /**
   * Reads a job of any source, by reference or URL (`parseJobRef`): an admin job, an ArcGIS
   * Server admin job (`<admin>/system/jobs/<id>`), a geoprocessing job (`<task>/jobs/<id>`) or
   * a portal item job's status. With the client's token (either header, as every GET), retries
   * and typed errors; exact about the job asked for and its status, tolerant about the rest.
   * A URL on an origin the client was not configured for is a `ConfigError`, with no request.
   * An item job's `status: "failed"` is the job's outcome, not an error.
   */
  readJobRef(ref: JobRef | string, options?: CallOptions): Promise<SourceJobRead>;
  /**
   * `POST <task>/submitJob` with the job's parameters: starts a geoprocessing job and resolves
   * its reference. Never sent twice once it may have reached the server (a second POST would
   * start a second job).
   */
  submitGpJob(taskUrl: string, params?: GpParams, options?: CallOptions): Promise<GpSubmitted>;
  /**
   * `POST <task>/jobs/<id>/cancel`: asks the server to cancel a geoprocessing job (its status
   * turns `esriJobCancelling`, then `esriJobCancelled`). Not the same as no longer watching
   * it, which is unsubscribing. Only GP jobs have a cancel operation: any other reference is a
   * `ConfigError`.
   */
  cancelGpJob(ref: GpJobRef | string, options?: CallOptions): Promise<SourceJobRead>;
  /**
   * Runs an ArcGIS Server admin operation with `runAsync=true` (`services/createService`,
   * `services/<folder>/<name>.<type>/edit`, …) and resolves the reference of the job it
   * started, read from the answer `{"status": "success", "jobid": "…"}`. An answer without a
   * job id (the operation ran synchronously) is a `ValidationError`.
   */
  startServerJob(
    path: string,
    params?: GpParams,
    options?: StartServerJobOptions,
  ): Promise<ServerJobRef>;
  /** Whether this client may send a request (and its token) to the origin of `url`. */
  allowsOrigin(url: string): boolean;
}
