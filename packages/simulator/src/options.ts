import type { ClockOption } from './clock.js';
import { SimulatorError } from './errors.js';
import type { FaultSpec } from './faults.js';
import {
  parseQuirks,
  parseTokenHeader,
  type QuirksOption,
  type TokenHeaderMode,
} from './quirks.js';
import { freshSeed } from './random.js';
import { isPlainName } from './routes.js';
import type { SimRoute, WorkloadOptions } from './site.js';

/** One line of the request log: never a query string, so never a token or a password. */
export interface RequestLogEntry {
  readonly method: string;
  /** The path, without its query. */
  readonly path: string;
  readonly route: SimRoute;
  readonly status: number;
  /** Wall-clock milliseconds the answer took. */
  readonly ms: number;
  /** The injected fault, if any. */
  readonly fault?: string;
}

/**
 * Options of {@link startSimulator}; every one has a default.
 *
 * @example
 * ```ts
 * const sim = await startSimulator({ clock: 'manual', seed: 7 });
 * ```
 */
export interface SimulatorOptions {
  /** TCP port; `0` picks a free one. @default 0 */
  readonly port?: number;
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** The web context: the admin root is `/<context>/admin`. @default 'arcgis' */
  readonly context?: string;
  /**
   * The ArcGIS Server's web context: its admin root is `/<serverContext>/admin` (admin jobs
   * at `system/jobs`), its services `/<serverContext>/rest/services`. @default 'server'
   */
  readonly serverContext?: string;
  /** The portal's web context: `/<portalContext>/sharing/rest`. @default 'portal' */
  readonly portalContext?: string;
  /** Users and their passwords. @default { admin: 'admin' } */
  readonly users?: Readonly<Record<string, string>>;
  /** Seed of every random choice (job ids, durations, workload, faults). @default a fresh one, see {@link Simulator.seed} */
  readonly seed?: number;
  /** @default 'real' */
  readonly clock?: ClockOption;
  /** Simulated epoch ms at start, for manual and scaled clocks. @default Date.now() */
  readonly startTime?: number;
  /** Token lifetime when `generateToken` asks for none. @default 3_600_000 (60 minutes) */
  readonly tokenTtlMs?: number;
  /** How long a finished job stays readable before it is purged. @default 86_400_000 (24 hours) */
  readonly retentionMs?: number;
  /** Background jobs, as a busy site has. @default none */
  readonly workload?: WorkloadOptions;
  /** Faults from the start. @default none */
  readonly faults?: FaultSpec;
  /** The `/__sim/` control surface. @default true when bound to loopback, false otherwise */
  readonly control?: boolean;
  /**
   * Cross-origin access to the ArcGIS routes (as a deployment's `allowedOrigins` gives), so
   * a page can talk to the simulator directly: `true` for any origin, a list for just those,
   * `false` for none. Never on `/__sim/`. @default true
   */
  readonly cors?: boolean | readonly string[];
  /** Duration bounds (log-uniform) of jobs started by admin operations. @default { min: 1000, max: 10_000 } */
  readonly operationDurationMs?: { readonly min: number; readonly max: number };
  /** Disaster-recovery stores that accept backups. @default ['default'] */
  readonly backupStores?: readonly string[];
  /** Largest request body accepted; larger ones get 413. @default 1_048_576 */
  readonly maxBodyBytes?: number;
  /** Called once per answered request. @default none */
  readonly log?: (entry: RequestLogEntry) => void;
  /**
   * Bodies that vary the way real servers' do (see `QuirkName` for each kind): `true` for
   * every quirk, a list of names for just those, `false` for the documented shapes only.
   * Each quirk that is on shows on about half the jobs (and error answers), chosen from the
   * seed and the job id, so a run replays exactly; a job created with its own `quirks`
   * shows those. Switchable at run time (`setQuirks`, `POST /__sim/quirks`). @default false
   */
  readonly quirks?: QuirksOption;
  /**
   * Which header the simulator reads the token from: `both`, or only
   * `x-esri-authorization` (a deployment behind web-tier authentication) or only
   * `authorization`; a token in the other header is answered as missing (499). The `token`
   * parameter is read in every mode. Switchable at run time (`setTokenHeader`,
   * `POST /__sim/token-header`). @default 'both'
   */
  readonly tokenHeader?: TokenHeaderMode;
}

const CONTEXT = /^[A-Za-z0-9_-]+$/;
/** Loopback addresses, where the control surface is on by default. */
export const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;

/** Checks the options and fills in the defaults. @throws {@link SimulatorError} `INVALID_OPTIONS` */
export function resolveOptions(options: SimulatorOptions) {
  const bad = (why: string): never => {
    throw new SimulatorError('INVALID_OPTIONS', why);
  };
  const context = options.context ?? 'arcgis';
  const serverContext = options.serverContext ?? 'server';
  const portalContext = options.portalContext ?? 'portal';
  for (const c of [context, serverContext, portalContext])
    if (typeof c !== 'string' || !CONTEXT.test(c) || c === '__sim')
      bad('context, serverContext and portalContext must be letters, digits, "-" or "_"');
  if (new Set([context, serverContext, portalContext]).size !== 3)
    bad('context, serverContext and portalContext must differ');
  const users = options.users ?? { admin: 'admin' };
  if (typeof users !== 'object' || Object.keys(users).length === 0)
    bad('users must name at least one user');
  for (const [name, password] of Object.entries(users)) {
    if (!name || typeof password !== 'string' || password === '')
      bad('every user needs a name and a non-empty password');
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) bad('port must be an integer 0–65535');
  const nonNegative = (v: number | undefined, name: string, fallback: number): number => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      bad(`${name} must be a finite number ≥ 0`);
    return v;
  };
  const ops = options.operationDurationMs ?? { min: 1000, max: 10_000 };
  if (!(ops.min >= 0 && ops.max >= ops.min)) bad('operationDurationMs needs 0 ≤ min ≤ max');
  const w = options.workload;
  if (w) {
    if (!(typeof w.jobsPerMinute === 'number' && w.jobsPerMinute > 0 && w.jobsPerMinute <= 600_000))
      bad('workload.jobsPerMinute must be > 0');
    const min = w.minDurationMs ?? 2000;
    const max = w.maxDurationMs ?? 120_000;
    if (!(min >= 0 && max >= min)) bad('workload needs 0 ≤ minDurationMs ≤ maxDurationMs');
    for (const rate of ['failureRate', 'cancelRate', 'timeoutRate', 'unavailableRate'] as const) {
      const v = w[rate];
      if (v !== undefined && !(v >= 0 && v <= 1)) bad(`workload.${rate} must be 0–1`);
    }
    if ((w.failureRate ?? 0.1) + (w.cancelRate ?? 0.05) + (w.timeoutRate ?? 0.02) > 1)
      bad('workload rates add up to more than 1');
    if (w.operations) {
      const weights = Object.values(w.operations);
      if (
        weights.some((x) => typeof x !== 'number' || !(x >= 0) || !Number.isFinite(x)) ||
        !weights.some((x) => x > 0)
      ) {
        bad('workload.operations needs weights ≥ 0, at least one above 0');
      }
    }
  }
  const cors = options.cors ?? true;
  if (
    typeof cors !== 'boolean' &&
    !(Array.isArray(cors) && cors.every((c) => typeof c === 'string'))
  ) {
    bad('cors must be true, false or a list of origins');
  }
  const stores = options.backupStores ?? ['default'];
  if (stores.length === 0 || stores.some((s) => !isPlainName(s)))
    bad('backupStores must be names of letters, digits, "-" or "_"');
  const seed = options.seed ?? freshSeed();
  if (!Number.isFinite(seed)) bad('seed must be a number');
  const quirks = parseQuirks(options.quirks, 'INVALID_OPTIONS');
  const tokenHeader = parseTokenHeader(options.tokenHeader ?? 'both', 'INVALID_OPTIONS');
  return {
    quirks,
    tokenHeader,
    context,
    contexts: { enterprise: context, server: serverContext, portal: portalContext },
    users,
    port,
    host: options.host ?? '127.0.0.1',
    seed: seed >>> 0,
    tokenTtlMs: nonNegative(options.tokenTtlMs, 'tokenTtlMs', 3_600_000),
    retentionMs: nonNegative(options.retentionMs, 'retentionMs', 86_400_000),
    maxBodyBytes: nonNegative(options.maxBodyBytes, 'maxBodyBytes', 1_048_576),
    workload: w,
    operationDurationMs: ops,
    backupStores: stores,
    cors,
  };
}

/** The options with their defaults, as the simulator's parts read them. */
export type ResolvedOptions = ReturnType<typeof resolveOptions>;
