/**
 * The public shape of `@jobwatch/client`. This file fixes the contract that `@jobwatch/rx`,
 * the daemon and the widget build against; `client.ts` implements it.
 */
import type { Job, JobHandle, JobId, Service, ServiceList, SiteInfo } from '@jobwatch/schema';

/** Per-call options: every call takes an AbortSignal and may override the per-request timeout. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  /** Milliseconds for this request (each attempt), overriding the client's `timeout`. */
  readonly timeout?: number;
}

/** Where the token travels on GET requests. POSTs always carry it as the `token` form field. */
export type TokenTransport = 'x-esri-authorization' | 'authorization' | 'query';

/** How the client gets a token. */
export type AuthProvider =
  | { readonly type: 'token'; readonly token: string }
  | {
      readonly type: 'credentials';
      readonly username: string;
      readonly password: string;
      /** Defaults to the URL derived from the admin URL: `.../<context>/admin` → `.../<context>/sharing/rest/generateToken`. */
      readonly tokenUrl?: string;
      /** Minutes a token is asked to live. @default 60 */
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
  /** @default 'x-esri-authorization' */
  readonly tokenTransport?: TokenTransport;
  /** Allow tokens and passwords over plain `http:` to hosts other than loopback. @default false */
  readonly allowInsecureHttp?: boolean;
  /** Sent as `User-Agent` where the platform allows it. */
  readonly userAgent?: string;
  /** A clock seam for token expiry and the retry deadline (epoch ms). @default Date.now */
  readonly now?: () => number;
}

/** A service named by folder (optional), name and type. `"Folder/Name.MapServer"` is accepted too. */
export type ServiceRef =
  | string
  | { readonly folder?: string; readonly name: string; readonly type: string };

/** Form fields of a generic operation; `f` and `token` are set by the client and refused here. */
export type OperationParams = Readonly<Record<string, string | number | boolean>>;

/** What an operation run with `async: true` returns: the handle and the job id read from it. */
export interface StartedJob {
  readonly jobid: JobId;
  /** Absolute URL of the job resource, when the server gave one. */
  readonly jobsUrl: string | undefined;
  readonly handle: JobHandle;
}

/** The admin API over HTTP, promise-based. Browser-safe. */
export interface AdminClient {
  /** The normalized admin root, without a trailing slash. */
  readonly url: string;
  getJob(jobid: string, options?: CallOptions): Promise<Job>;
  /** GETs a handle's `jobsUrl`; refuses any origin but the admin URL's own. */
  getJobByUrl(jobsUrl: string, options?: CallOptions): Promise<Job>;
  listJobs(options?: CallOptions): Promise<JobId[]>;
  getSiteInfo(options?: CallOptions): Promise<SiteInfo>;
  listServices(options?: CallOptions & { readonly folder?: string }): Promise<ServiceList>;
  getService(service: ServiceRef, options?: CallOptions): Promise<Service>;
  startService(
    service: ServiceRef,
    options: CallOptions & { readonly async: true },
  ): Promise<StartedJob>;
  startService(
    service: ServiceRef,
    options?: CallOptions & { readonly async?: false },
  ): Promise<void>;
  stopService(
    service: ServiceRef,
    options: CallOptions & { readonly async: true },
  ): Promise<StartedJob>;
  stopService(
    service: ServiceRef,
    options?: CallOptions & { readonly async?: false },
  ): Promise<void>;
  editService(
    service: ServiceRef,
    json: Service,
    options: CallOptions & { readonly async: true },
  ): Promise<StartedJob>;
  editService(
    service: ServiceRef,
    json: Service,
    options?: CallOptions & { readonly async?: false },
  ): Promise<void>;
  deleteServices(
    services: readonly ServiceRef[],
    options: CallOptions & { readonly async: true },
  ): Promise<StartedJob>;
  deleteServices(
    services: readonly ServiceRef[],
    options?: CallOptions & { readonly async?: false },
  ): Promise<void>;
  /** Starts a backup (always a job). */
  createBackup(
    options: CallOptions & { readonly store: string; readonly params?: Record<string, string> },
  ): Promise<StartedJob>;
  /** Any other POST operation under the admin root, e.g. `services/refreshAutodeployedServices`. Returns the raw validated-as-not-an-error body. */
  operation(
    path: string,
    params?: Record<string, string | number | boolean>,
    options?: CallOptions,
  ): Promise<unknown>;
}
