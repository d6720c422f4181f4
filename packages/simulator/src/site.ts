import { type JobId, JobStatus, parseJobId, type Service } from '@jobwatch/schema';
import { Catalogue, type ServiceKey, serviceKeyString } from './catalogue.js';
import type { SimClock } from './clock.js';
import { SimulatorError } from './errors.js';
import { FaultInjector } from './faults.js';
import {
  JOB_ENDS,
  type JobEnd,
  JobStore,
  jobBody,
  type Operation,
  operationFromUri,
  SimJob,
} from './jobs.js';
import {
  parseQuirks,
  type QuirkNameValue,
  Quirks,
  type QuirksOption,
  type TokenHeaderMode,
} from './quirks.js';
import { createRandom, exponential, logUniform, type Random, randomJobId } from './random.js';
import { Sources } from './sources.js';
import { checkDuration, checkQuirks } from './spec.js';
import { TokenStore } from './tokens.js';

/**
 * A job to create through the control surface (`POST /__sim/jobs` or `sim.createJob`).
 *
 * @example
 * ```ts
 * const id = sim.createJob({ outcome: 'FAILED', durationMs: 3000, unavailableBlips: 1 });
 * ```
 */
export interface JobSpec {
  /** How the job ends. */
  readonly outcome: JobEnd;
  /** Milliseconds from submission to the end. */
  readonly durationMs: number;
  /** The `operationURI`, e.g. `/arcgis/admin/services/X.MapServer/edit`. @default an edit of a catalogue service */
  readonly operation?: string;
  /** How many `UNAVAILABLE` blips it shows while executing. @default 0 */
  readonly unavailableBlips?: number;
  /** Who submitted it. @default the first configured user */
  readonly username?: string;
  /**
   * A scripted timeline instead of the usual one: after SUBMITTED, each entry's status
   * from its offset on, then the outcome at `durationMs`. Any status is allowed, so a test
   * can show a status a newer server might send (`{ atMs: 500, status: 'PAUSED' }`).
   * Offsets rise strictly and stay below `durationMs`; excludes `unavailableBlips`.
   */
  readonly timeline?: ReadonlyArray<{ readonly atMs: number; readonly status: string }>;
  /**
   * The quirks this job shows, whatever the simulator-wide setting: `true` for one quirk of
   * every group (see `QuirkName`), a list for just those (where a list names several of one
   * group, such as `stringResult` and `nullResult`, the seed picks one), `false` for the
   * documented shapes only. @default the simulator-wide setting, see `SimulatorOptions.quirks`
   */
  readonly quirks?: QuirksOption;
}

/** The operations the workload generator mixes, with relative weights. */
export interface OperationMix {
  readonly edit?: number;
  readonly start?: number;
  readonly stop?: number;
  readonly backup?: number;
}

/**
 * A stream of background jobs, as a busy site has. Arrivals are a Poisson process on the
 * simulator's clock; durations are log-uniform between the bounds; outcomes are drawn by
 * the rates (the rest complete). Workload jobs report their operation but do not change
 * the catalogue.
 */
export interface WorkloadOptions {
  /** Mean arrivals per (simulated) minute. */
  readonly jobsPerMinute: number;
  /** @default 2000 */
  readonly minDurationMs?: number;
  /** @default 120000 */
  readonly maxDurationMs?: number;
  /** Share that ends FAILED. @default 0.1 */
  readonly failureRate?: number;
  /** Share that ends CANCELLED. @default 0.05 */
  readonly cancelRate?: number;
  /** Share that ends TIMED OUT. @default 0.02 */
  readonly timeoutRate?: number;
  /** Share that shows one or two UNAVAILABLE blips. @default 0.1 */
  readonly unavailableRate?: number;
  /** @default { edit: 4, start: 2, stop: 2, backup: 1 } */
  readonly operations?: OperationMix;
}

/** Request counts, as `GET /__sim/stats` answers. */
export interface SimStats {
  /** Every request, control requests included. */
  readonly total: number;
  /**
   * By route: `generateToken`, `site`, `jobsList`, `job`, `services`, `service`,
   * `operation`, `backup`, `sim`, `other`; ArcGIS Server admin: `serverAdmin`,
   * `serverJobsList`, `serverJob`, `serverOperation`; geoprocessing: `gpCatalog`,
   * `gpSubmit`, `gpJob`, `gpCancel`, `gpParam`; portal: `itemStatus`.
   */
  readonly byRoute: Readonly<Record<SimRoute, number>>;
  /** Requests for each job id (admin, ArcGIS Server, geoprocessing and item job reads), whether or not the job exists (the first million ids). */
  readonly byJob: Readonly<Record<string, number>>;
  /** Faults injected, by kind. */
  readonly faults: Readonly<Record<string, number>>;
  /** Jobs held now, of every source. */
  readonly jobs: number;
}

/** The route names requests are counted under. */
export const SIM_ROUTES = [
  'generateToken',
  'site',
  'jobsList',
  'job',
  'services',
  'service',
  'operation',
  'backup',
  'sim',
  'other',
  'serverAdmin',
  'serverJobsList',
  'serverJob',
  'serverOperation',
  'gpCatalog',
  'gpSubmit',
  'gpJob',
  'gpCancel',
  'gpParam',
  'itemStatus',
] as const;

/** One of {@link SIM_ROUTES}. */
export type SimRoute = (typeof SIM_ROUTES)[number];

/** Settings of a site, resolved from the simulator's options. */
export interface SiteSettings {
  readonly context: string;
  readonly users: Readonly<Record<string, string>>;
  readonly seed: number;
  readonly tokenTtlMs: number;
  readonly retentionMs: number;
  readonly workload?: WorkloadOptions | undefined;
  readonly operationDurationMs: { readonly min: number; readonly max: number };
  readonly backupStores: readonly string[];
}

const STATUS = /^[A-Za-z][A-Za-z0-9 _-]{0,63}$/;
const MAX_COUNTED_JOBS = 1_000_000;
const MAX_TOKEN_TTL_MS = 14 * 24 * 60 * 60_000;

/**
 * The simulated site: catalogue, jobs, tokens, faults and counters, with no HTTP in it.
 * Every read first calls {@link Site.settle}, which brings the workload and the effects of
 * finished operations up to the clock's now (so nothing runs on timers).
 */
export class Site {
  readonly catalogue: Catalogue;
  readonly jobs: JobStore;
  readonly tokens = new TokenStore();
  readonly faults: FaultInjector;
  /** Which quirks bodies show (simulator-wide, switchable at run time). */
  readonly quirks: Quirks;
  /** Which header carries the token (switchable at run time). */
  tokenHeader: TokenHeaderMode = 'both';
  /** ArcGIS Server admin jobs, geoprocessing jobs and portal item jobs. */
  readonly sources: Sources;
  readonly #ids: Random;
  readonly #ops: Random;
  readonly #work: Random;
  #nextArrival = Number.POSITIVE_INFINITY;
  #total = 0;
  readonly #byRoute = new Map<SimRoute, number>(SIM_ROUTES.map((r) => [r, 0]));
  readonly #byJob = new Map<string, number>();
  readonly #faultCounts = new Map<string, number>();
  /** Control and workload operations, shared by URI: many jobs, few distinct operations. */
  readonly #operations = new Map<string, Operation>();

  constructor(
    readonly clock: SimClock,
    readonly settings: SiteSettings,
  ) {
    this.catalogue = new Catalogue(createRandom(settings.seed, 'catalogue'));
    this.jobs = new JobStore(settings.retentionMs);
    this.faults = new FaultInjector(createRandom(settings.seed, 'faults'));
    this.quirks = new Quirks(settings.seed);
    this.#ids = createRandom(settings.seed, 'ids');
    this.#ops = createRandom(settings.seed, 'operations');
    this.#work = createRandom(settings.seed, 'workload');
    this.sources = new Sources(clock, {
      seed: settings.seed,
      retentionMs: settings.retentionMs,
      users: settings.users,
      defaultUser: this.defaultUser,
      operationDurationMs: settings.operationDurationMs,
    });
    const w = settings.workload;
    if (w && w.jobsPerMinute > 0)
      this.#nextArrival =
        clock.now() + Math.ceil(exponential(this.#work, 60_000 / w.jobsPerMinute));
  }

  /** The admin root's path: `/<context>/admin`. */
  get adminPath(): string {
    return `/${this.settings.context}/admin`;
  }

  /** The first configured user (who submits control and workload jobs). */
  get defaultUser(): string {
    return Object.keys(this.settings.users)[0] ?? 'admin';
  }

  /** Brings the site up to `now`: workload arrivals, then finished operations' changes. */
  settle(now: number = this.clock.now()): number {
    this.#arrive(now);
    for (let job = this.jobs.due(now); job; job = this.jobs.due(now)) this.#complete(job);
    this.jobs.sweep(now);
    this.sources.settle(now, ({ operation, service, payload }) => {
      const kind = operation === 'delete' ? 'deleteServices' : operation;
      return this.apply({ kind, services: [service], ...(payload ? { payload } : {}) }).failure;
    });
    return now;
  }

  #newId(): JobId {
    let id = randomJobId(this.#ids);
    while (this.jobs.has(id)) id = randomJobId(this.#ids);
    return parseJobId(id);
  }

  /**
   * Creates a job from a control spec.
   * @throws {@link SimulatorError} `INVALID_SPEC` naming the first problem.
   */
  createJob(input: unknown): JobId {
    const spec = parseJobSpec(input, this.settings.users);
    const now = this.settle();
    const op = spec.operation
      ? this.#operation(spec.operation)
      : this.#pickOperation(this.#ops, { edit: 1 });
    const job = new SimJob(
      this.#newId(),
      now,
      spec.durationMs,
      spec.outcome,
      spec.unavailableBlips ?? 0,
      op,
      spec.username ?? this.defaultUser,
    );
    if (spec.timeline) job.timeline = spec.timeline.map((e) => [e.atMs, e.status] as const);
    if (spec.quirks !== undefined) job.quirks = parseQuirks(spec.quirks);
    this.jobs.add(job);
    return job.id;
  }

  /** The quirks a job shows now, if any. */
  quirksOf(job: SimJob): ReadonlySet<QuirkNameValue> | undefined {
    return this.quirks.forJob(job.id, job.quirks);
  }

  /** A job's body at `now`, as `GET <root>/jobs/<jobid>` answers it (quirks included). */
  body(job: SimJob, now: number): Record<string, unknown> {
    return jobBody(job, now, this.catalogue, this.quirksOf(job));
  }

  /** Starts a job for an operation run through the admin API; it completes and makes its change. */
  startOperation(op: Omit<Operation, 'effects'>, username: string): SimJob {
    const now = this.settle();
    const { min, max } = this.settings.operationDurationMs;
    const job = new SimJob(
      this.#newId(),
      now,
      logUniform(this.#ops, min, max),
      JobStatus.COMPLETED,
      0,
      { ...op, effects: true },
      username,
    );
    this.jobs.add(job);
    return job;
  }

  /** Makes an operation's change now (a synchronous run, or an async job's end). Returns a failure message, if any. */
  apply(op: Pick<Operation, 'kind' | 'services' | 'payload'>): {
    failure?: string;
    service?: Service;
  } {
    const missing = op.services.find((key) => !this.catalogue.get(key));
    if (missing && op.kind !== 'backup')
      return { failure: `Service '${serviceKeyString(missing)}' does not exist.` };
    const key = op.services[0];
    switch (op.kind) {
      case 'edit':
        return key && op.payload ? { service: this.catalogue.edit(key, op.payload)! } : {};
      case 'start':
      case 'stop':
        return key
          ? { service: this.catalogue.setState(key, op.kind === 'start' ? 'STARTED' : 'STOPPED')! }
          : {};
      case 'deleteServices':
        for (const k of op.services) this.catalogue.delete(k);
        return {};
      default:
        return {};
    }
  }

  #complete(job: SimJob): void {
    const { failure, service } = this.apply(job.op);
    if (failure) {
      job.end = JobStatus.FAILED;
      job.failure = failure;
    } else if (job.op.kind === 'edit' && service) {
      job.result = { service: structuredClone(service) };
    }
  }

  #operation(uri: string): Operation {
    let op = this.#operations.get(uri);
    if (!op) {
      op = operationFromUri(uri);
      if (this.#operations.size < 10_000) this.#operations.set(uri, op);
    }
    return op;
  }

  #pickOperation(random: Random, mix: OperationMix): Operation {
    const weights: Array<[keyof OperationMix, number]> = [
      ['edit', mix.edit ?? 0],
      ['start', mix.start ?? 0],
      ['stop', mix.stop ?? 0],
      ['backup', mix.backup ?? 0],
    ];
    const total = weights.reduce((sum, [, w]) => sum + Math.max(0, w), 0);
    let r = random() * (total || 1);
    let kind: keyof OperationMix = 'edit';
    for (const [k, w] of weights) {
      if (w <= 0) continue;
      kind = k;
      r -= w;
      if (r < 0) break;
    }
    const serviceDraw = random();
    if (kind === 'backup') {
      const stores = this.settings.backupStores;
      const store = stores[Math.floor(serviceDraw * stores.length)] ?? 'default';
      return this.#operation(
        `${this.adminPath}/system/disasterrecovery/stores/${store}/backups/create`,
      );
    }
    const services = this.catalogue.all();
    const s = services[Math.floor(serviceDraw * services.length)];
    const target = s
      ? serviceKeyString({
          folder: s.folderName ?? '',
          name: s.serviceName ?? '',
          type: s.type ?? '',
        })
      : 'SampleWorldCities.MapServer';
    return this.#operation(`${this.adminPath}/services/${target}/${kind}`);
  }

  #arrive(now: number): void {
    const w = this.settings.workload;
    if (!w) return;
    const mean = 60_000 / w.jobsPerMinute;
    const min = w.minDurationMs ?? 2000;
    const max = w.maxDurationMs ?? 120_000;
    const failure = w.failureRate ?? 0.1;
    const cancel = w.cancelRate ?? 0.05;
    const timeout = w.timeoutRate ?? 0.02;
    const unavailable = w.unavailableRate ?? 0.1;
    const mix = w.operations ?? { edit: 4, start: 2, stop: 2, backup: 1 };
    while (this.#nextArrival <= now) {
      const start = this.#nextArrival;
      const r = this.#work;
      const duration = logUniform(r, min, max);
      const o = r();
      const end: JobEnd =
        o < failure
          ? 'FAILED'
          : o < failure + cancel
            ? 'CANCELLED'
            : o < failure + cancel + timeout
              ? 'TIMED OUT'
              : 'COMPLETED';
      const blipDraw = r();
      const blipCount = r();
      const blips = blipDraw < unavailable ? 1 + Math.floor(blipCount * 2) : 0;
      const op = this.#pickOperation(r, mix);
      const id = this.#newId();
      // A job already past its retention would never be seen: draw it (for determinism) but do not keep it.
      if (start + duration + this.settings.retentionMs > now)
        this.jobs.add(new SimJob(id, start, duration, end, blips, op, this.defaultUser));
      this.#nextArrival = start + Math.max(1, Math.ceil(exponential(r, mean)));
    }
  }

  /** Issues a token for a known user, valid for `ttlMs` (capped at 14 days) from now. */
  issueToken(
    username: string,
    ttlMs: number = this.settings.tokenTtlMs,
  ): { token: string; expires: number } {
    if (!Object.hasOwn(this.settings.users, username))
      throw new SimulatorError('UNKNOWN_USER', `no user named ${JSON.stringify(username)}`);
    const now = this.clock.now();
    const expires = now + Math.min(Math.max(1, ttlMs), MAX_TOKEN_TTL_MS);
    return { token: this.tokens.issue(username, expires, now), expires };
  }

  /** Whether the password is right for the user (constant work whatever the answer). */
  checkPassword(username: string, password: string): boolean {
    const expected = Object.hasOwn(this.settings.users, username)
      ? this.settings.users[username]
      : undefined;
    return expected !== undefined && expected === password;
  }

  /** Counts a request. */
  count(route: SimRoute, jobid?: string): void {
    this.#total++;
    this.#byRoute.set(route, (this.#byRoute.get(route) ?? 0) + 1);
    // Bounded, so a client asking for endless made-up ids cannot grow the counters forever.
    if (jobid !== undefined && (this.#byJob.size < MAX_COUNTED_JOBS || this.#byJob.has(jobid))) {
      this.#byJob.set(jobid, (this.#byJob.get(jobid) ?? 0) + 1);
    }
  }

  /** Counts an injected fault. */
  countFault(kind: string): void {
    this.#faultCounts.set(kind, (this.#faultCounts.get(kind) ?? 0) + 1);
  }

  /** The counters. */
  stats(): SimStats {
    return {
      total: this.#total,
      byRoute: Object.fromEntries(this.#byRoute) as Record<SimRoute, number>,
      byJob: Object.fromEntries(this.#byJob),
      faults: Object.fromEntries(this.#faultCounts),
      jobs: this.jobs.size + this.sources.size,
    };
  }
}

/**
 * Checks a job spec from untrusted input.
 * @throws {@link SimulatorError} `INVALID_SPEC`.
 */
export function parseJobSpec(input: unknown, users: Readonly<Record<string, string>>): JobSpec {
  const bad = (why: string): never => {
    throw new SimulatorError('INVALID_SPEC', `job: ${why}`);
  };
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    bad('expected an object');
  const { outcome, durationMs, operation, unavailableBlips, username, timeline, quirks } =
    input as Record<string, unknown>;
  if (!JOB_ENDS.includes(outcome as JobEnd)) bad(`outcome must be one of ${JOB_ENDS.join(', ')}`);
  checkDuration(durationMs, bad);
  if (
    operation !== undefined &&
    (typeof operation !== 'string' ||
      !operation.startsWith('/') ||
      operation.length > 2048 ||
      /[\s\u0000-\u001f]/.test(operation))
  ) {
    bad('operation must be a path such as /arcgis/admin/services/Name.MapServer/edit');
  }
  if (
    unavailableBlips !== undefined &&
    (typeof unavailableBlips !== 'number' ||
      !Number.isInteger(unavailableBlips) ||
      unavailableBlips < 0 ||
      unavailableBlips > 100)
  ) {
    bad('unavailableBlips must be an integer from 0 to 100');
  }
  if (username !== undefined && (typeof username !== 'string' || !Object.hasOwn(users, username)))
    bad('username must name a configured user');
  if (timeline !== undefined) {
    if (!Array.isArray(timeline) || timeline.length > 100)
      bad('timeline must be an array of at most 100 entries');
    if (unavailableBlips !== undefined) bad('timeline and unavailableBlips exclude each other');
    let last = 0;
    for (const entry of timeline as unknown[]) {
      const { atMs, status } = (entry ?? {}) as { atMs?: unknown; status?: unknown };
      if (
        typeof atMs !== 'number' ||
        !Number.isInteger(atMs) ||
        atMs <= last ||
        atMs >= (durationMs as number)
      ) {
        bad('timeline offsets must be integers that rise strictly, above 0 and below durationMs');
      }
      if (typeof status !== 'string' || !STATUS.test(status))
        bad('timeline statuses must be 1–64 letters, digits, spaces, "_" or "-"');
      last = atMs as number;
    }
  }
  checkQuirks(quirks, bad);
  return {
    outcome: outcome as JobEnd,
    durationMs: Math.floor(durationMs as number),
    ...(operation !== undefined ? { operation: operation as string } : {}),
    ...(unavailableBlips !== undefined ? { unavailableBlips: unavailableBlips as number } : {}),
    ...(username !== undefined ? { username: username as string } : {}),
    ...(timeline !== undefined
      ? {
          timeline: (timeline as Array<{ atMs: number; status: string }>).map(
            ({ atMs, status }) => ({ atMs, status }),
          ),
        }
      : {}),
    ...(quirks !== undefined ? { quirks: quirks as QuirksOption } : {}),
  };
}

/** Re-exported for the server: names a service. */
export type { ServiceKey };
